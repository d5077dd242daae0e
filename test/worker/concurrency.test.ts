// Concurrency limits through the real Worker: a namespace's
// concurrentInvocations (leases in its NamespaceThrottle Durable Object) and
// an action's limits.concurrency (isolates per slot in the invoker Durable
// Object, through the Worker Loader).
import { createExecutionContext, createMessageBatch, getQueueResult, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { NamespaceThrottle } from "../../src/cloudflare/throttle-do.js";
import worker from "../../src/cloudflare/worker.js";
import { ConcurrencyLimiter, PARKED_MS } from "../../src/core/concurrency.js";
import { WhiskError } from "../../src/core/errors.js";
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

/**
 * The leases left once places the Worker holds for the next activation have
 * gone back for want of one (PARKED_MS after the last activation ended).
 */
async function leasesLeftOf(namespace: string): Promise<string[]> {
  let leases = await leasesOf(namespace);
  for (let i = 0; i < 40 && leases.length > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, PARKED_MS));
    leases = await leasesOf(namespace);
  }
  return leases;
}

/** A controller isolate's limiter of its own, asking the namespace's NamespaceThrottle as the Worker's does. */
const isolateLimiter = (limit: number) =>
  new ConcurrencyLimiter({
    authority: { settle: (ns, change) => env.THROTTLE.get(env.THROTTLE.idFromName(ns)).settleLeases(change) },
    limitsOf: async () => ({ concurrentInvocations: limit }),
  });

const outcome = (work: Promise<unknown>) =>
  work.then(
    () => "ok",
    (err: WhiskError) => `${err.status} ${err.message}`,
  );

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
    const again = await Promise.all([0, 1].map(() => invoke("sleep", key, "blocking=true", { ms: 200 })));
    expect(statuses(again)).toEqual([200, 200]);
    // A caller's invokes one after the other are never refused at the limit.
    for (let i = 0; i < 5; i++) expect((await invoke("sleep", key, "blocking=true", { ms: 1 })).status).toBe(200);
    expect(await leasesLeftOf(name)).toEqual([]);
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
    // A queued one right after a blocking one: the place the blocking one left is not counted against it.
    const queuedAgain = await invoke("sleep", key, "blocking=false", { ms: 10 });
    expect(queuedAgain.status).toBe(202);
    await waitForActivation(queuedAgain.body.activationId, key);
    expect(await leasesLeftOf(name)).toEqual([]);
  });

  it("gives the place back when an admitted activation fails before it runs, or is dead-lettered", async () => {
    const { name, key } = await namespaceWith({ concurrentInvocations: 1 });
    // 404 from the invoker: the activation ended there.
    expect((await invoke("missing", key)).status).toBe(404);
    expect((await invoke("missing", key, "blocking=false")).status).toBe(404);
    expect(await leasesLeftOf(name)).toEqual([]);

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
    expect(await leasesLeftOf(name)).toEqual([]);
  });

  it("keeps its leases in storage: a new incarnation of the namespace's object counts the places taken before", async () => {
    const { name } = await namespaceWith({});
    const stub = env.THROTTLE.get(env.THROTTLE.idFromName(name));
    const change = (release: string[], acquire: string[]) => ({ release, acquire, ttlMs: 60_000, limit: 3 });
    expect((await stub.settleLeases(change([], ["a", "b"]))).admitted).toEqual(["a", "b"]);
    expect((await stub.settleLeases(change(["a"], ["c"]))).admitted).toEqual(["c"]);
    // What an object evicted and started again would answer: it holds b and c, so one more place is left.
    const again = await runInDurableObject(stub, (_instance, state) =>
      new NamespaceThrottle(state, env).settleLeases(change([], ["d", "e"])),
    );
    expect(again).toEqual({ admitted: ["d"], count: 2, pooled: 0 });
    expect((await leasesOf(name)).sort()).toEqual(["lease:b", "lease:c", "lease:d"]);
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

describe("concurrentInvocations across controller isolates", { timeout: 30_000 }, () => {
  it("admits exactly the limit whichever isolates hold the places, and no false 429 while places are only parked", async () => {
    const { name } = await namespaceWith({});
    const [a, b] = [isolateLimiter(3), isolateLimiter(3)];
    const burst = await Promise.all(Array.from({ length: 8 }, (_, i) => outcome((i % 2 ? b : a).hold(name, `burst${i}`))));
    expect(burst.filter((o) => o === "ok")).toHaveLength(3);
    expect(burst.filter((o) => o !== "ok")).toEqual(Array(5).fill("429 Too many concurrent requests in flight (count: 3, allowed: 3)."));
    expect(await leasesOf(name)).toHaveLength(3);
    // All end: their places stay parked with whoever held them, and come back to whoever asks.
    await Promise.all(burst.map((_, i) => (i % 2 ? b : a).release(name, `burst${i}`)));
    expect(await Promise.all([0, 1, 2].map((i) => outcome((i === 0 ? a : b).hold(name, `next${i}`))))).toEqual(["ok", "ok", "ok"]);
    expect(await outcome(a.acquire(name, "queued"))).toBe("429 Too many concurrent requests in flight (count: 3, allowed: 3).");
    await Promise.all([0, 1, 2].map((i) => (i === 0 ? a : b).release(name, `next${i}`)));
    // A limit of 1 (a and b still hold three parked places): one after the other through alternating isolates.
    const [c, d] = [isolateLimiter(1), isolateLimiter(1)];
    for (let i = 0; i < 6; i++) {
      const gate = i % 2 ? d : c;
      expect(await outcome(gate.hold(name, `seq${i}`))).toBe("ok");
      await gate.release(name, `seq${i}`);
    }
    // A queued activation right after, acquired in one isolate and released by the other (by the lease it was handed).
    const lease = await d.acquire(name, "queued");
    expect(lease).toMatch(/^place:/);
    expect(await outcome(c.hold(name, "over"))).toBe("429 Too many concurrent requests in flight (count: 1, allowed: 1).");
    await c.release(name, lease!);
    expect(await leasesLeftOf(name)).toEqual([]);
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
