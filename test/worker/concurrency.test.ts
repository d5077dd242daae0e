// Concurrency limits through the real Worker: a namespace's
// concurrentInvocations (leases in its NamespaceThrottle Durable Object) and
// an action's limits.concurrency (isolates per slot in the invoker Durable
// Object, through the Worker Loader).
import { createExecutionContext, createMessageBatch, getQueueResult, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../../src/cloudflare/worker.js";
import type { DispatchMessage } from "../../src/ports/dispatcher.js";
import { seedSubject } from "../../src/store/seed.js";
import { call, createAction, seedNamespaces, store, waitForActivation, type ApiResponse } from "./helpers.js";

let next = 0;
/** A namespace of its own per test, so leases and limits never leak between tests. */
async function namespaceWith(limits: { concurrentInvocations?: number; invocationsPerMinute?: number }) {
  const name = `parallel${++next}`;
  const key = `c0c0${String(next).padStart(4, "0")}-0000-4000-8000-000000000000:parallelKey${next}abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123`;
  await seedSubject(store(), key, name);
  await store().putNamespaceLimits(name, limits);
  return { name, key };
}

const SLEEPER = `async function main(p) {
  await new Promise((resolve) => setTimeout(resolve, p.ms || 1500));
  return { slept: p.ms || 1500 };
}`;

/** Reports how many activations its isolate was running at once while this one ran. */
const COUNTER = `let running = 0;
async function main(p) {
  running++;
  let most = running;
  for (let i = 0; i < 20; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    most = Math.max(most, running);
  }
  running--;
  return { most };
}`;

/** The leases a namespace's authority holds now. */
async function leasesOf(namespace: string): Promise<string[]> {
  const stub = env.THROTTLE.get(env.THROTTLE.idFromName(namespace));
  return runInDurableObject(stub, (_instance, state) => [...state.storage.kv.list({ prefix: "lease:" })].map(([key]) => key));
}

const invoke = (name: string, key: string, query = "blocking=true", body?: unknown) =>
  call("POST", `/api/v1/namespaces/_/actions/${name}?${query}`, { auth: key, body });

const statuses = (responses: ApiResponse[]) => responses.map((r) => r.status).sort();

beforeAll(seedNamespaces);

describe("concurrentInvocations", { timeout: 30_000 }, () => {
  it("refuses the activation past the limit with OpenWhisk's 429, and frees the places when activations end", async () => {
    const { name, key } = await namespaceWith({ concurrentInvocations: 2 });
    await createAction("sleep", SLEEPER, {}, key);
    const burst = await Promise.all([0, 1, 2].map(() => invoke("sleep", key)));
    expect(statuses(burst)).toEqual([200, 200, 429]);
    const refused = burst.find((r) => r.status === 429)!;
    expect(refused.body).toEqual({ error: "Too many concurrent requests in flight (count: 2, allowed: 2).", code: expect.any(String) });
    // The refused one ran nothing.
    expect(refused.headers.get("x-openwhisk-activation-id")).toBeNull();

    // Nothing leaked: two more in parallel pass once the first two have ended.
    expect(await leasesOf(name)).toEqual([]);
    const again = await Promise.all([0, 1].map(() => invoke("sleep", key, "blocking=true", { ms: 200 })));
    expect(statuses(again)).toEqual([200, 200]);
    expect(await leasesOf(name)).toEqual([]);
  });

  it("counts queued (non-blocking) activations until they end, and web activations of the owner", async () => {
    const { name, key } = await namespaceWith({ concurrentInvocations: 1 });
    await createAction("sleep", SLEEPER, { annotations: [{ key: "web-export", value: true }] }, key);
    const queued = await invoke("sleep", key, "blocking=false");
    expect(queued.status).toBe(202);
    const refused = await invoke("sleep", key);
    expect(refused.status).toBe(429);
    expect(refused.body.error).toBe("Too many concurrent requests in flight (count: 1, allowed: 1).");
    const web = await call("GET", `/api/v1/web/${name}/default/sleep.json`, { auth: null });
    expect(web.status).toBe(429);
    expect(web.body.error).toBe("Too many concurrent requests in flight (count: 1, allowed: 1).");

    await waitForActivation(queued.body.activationId, key);
    for (let i = 0; i < 50 && (await leasesOf(name)).length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await leasesOf(name)).toEqual([]);
    expect((await call("GET", `/api/v1/web/${name}/default/sleep.json?ms=10`, { auth: null })).status).toBe(200);
    expect((await invoke("sleep", key, "blocking=true", { ms: 10 })).status).toBe(200);
    expect(await leasesOf(name)).toEqual([]);
  });

  it("gives the place back when an admitted activation fails before it runs, or is dead-lettered", async () => {
    const { name, key } = await namespaceWith({ concurrentInvocations: 1 });
    // 404 from the invoker: the activation ended there.
    expect((await invoke("missing", key)).status).toBe(404);
    expect((await invoke("missing", key, "blocking=false")).status).toBe(404);
    expect(await leasesOf(name)).toEqual([]);

    await createAction("sleep", SLEEPER, {}, key);
    const activationId = crypto.randomUUID().replaceAll("-", "");
    const stub = env.THROTTLE.get(env.THROTTLE.idFromName(name));
    expect(await stub.acquireLease(activationId, 60_000, 1)).toEqual({ admitted: true, count: 0 });
    const identity = { subject: name, namespace: name, uuid: key.split(":")[0], authKey: key };
    const message: DispatchMessage = {
      type: "invoke",
      request: {
        activationId,
        transactionId: "t",
        action: { namespace: name, name: "sleep" },
        identity,
        params: {},
        receivedAt: Date.now(),
        apiHost: "http://edgewhisk.test",
        leased: true,
      },
    };
    const batch = createMessageBatch<DispatchMessage>("edgewhisk-activations-dlq", [{ id: "dead", timestamp: new Date(), attempts: 1, body: message }]);
    const ctx = createExecutionContext();
    await worker.queue(batch as MessageBatch<DispatchMessage>, env, ctx);
    await getQueueResult(batch, ctx);
    expect(await leasesOf(name)).toEqual([]);
  });

  it("frees a place nobody released once its lease expires", async () => {
    const { name, key } = await namespaceWith({ concurrentInvocations: 1 });
    await createAction("sleep", SLEEPER, {}, key);
    const stub = env.THROTTLE.get(env.THROTTLE.idFromName(name));
    // A controller that crashed with an activation in hand.
    await stub.acquireLease("crashed", 300, 1);
    const refused = await invoke("sleep", key, "blocking=true", { ms: 10 });
    expect(refused.status).toBe(429);
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect((await invoke("sleep", key, "blocking=true", { ms: 10 })).status).toBe(200);
    expect(await leasesOf(name)).toEqual([]);
  });

  it("enforces the limit `wskadmin limits set <ns> --concurrentInvocations N` stores", async () => {
    const { name, key } = await namespaceWith({});
    await createAction("sleep", SLEEPER, {}, key);
    // The statement `wskadmin limits set` runs (SqlStore.putNamespaceLimits).
    await env.DB.prepare("INSERT INTO namespace_limits (namespace, limits) VALUES (?, ?) ON CONFLICT (namespace) DO UPDATE SET limits = excluded.limits")
      .bind(name, JSON.stringify({ concurrentInvocations: 1 }))
      .run();
    await env.THROTTLE.get(env.THROTTLE.idFromName(name)).acquireLease("other", 60_000, 1);
    const refused = await invoke("sleep", key, "blocking=true", { ms: 10 });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toBe("Too many concurrent requests in flight (count: 1, allowed: 1).");
    expect((await call("GET", "/api/v1/namespaces/_/limits", { auth: key })).body).toMatchObject({ concurrentInvocations: 1 });
  });
});

describe("limits.concurrency", { timeout: 30_000 }, () => {
  it("runs parallel activations of a concurrency-1 action in isolates of their own", async () => {
    const { key } = await namespaceWith({});
    await createAction("counter", COUNTER, {}, key);
    const runs = await Promise.all([0, 1, 2].map(() => invoke("counter", key, "blocking=true&result=true")));
    expect(runs.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(runs.map((r) => r.body.most)).toEqual([1, 1, 1]);
  });

  it("lets up to limits.concurrency activations share an isolate", async () => {
    const { key } = await namespaceWith({});
    await createAction("counter", COUNTER, { limits: { concurrency: 3 } }, key);
    // Warm it first, so the burst does not race three cold starts of one isolate.
    expect((await invoke("counter", key, "blocking=true&result=true")).body).toEqual({ most: 1 });
    const runs = await Promise.all([0, 1, 2].map(() => invoke("counter", key, "blocking=true&result=true")));
    expect(runs.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(Math.max(...runs.map((r) => r.body.most))).toBeGreaterThan(1);
  });
});
