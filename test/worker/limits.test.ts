// Per-namespace rate limits through the real Worker: the NamespaceThrottle
// Durable Objects, limits stored in D1, the queue consumer for rule
// activations.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { seedSubject } from "../../src/store/seed.js";
import { call, createAction, seedNamespaces, store, waitForActivation, HELLO_JS } from "./helpers.js";

/** Each test gets a namespace of its own, so a spent minute never leaks into another test. */
let next = 0;
async function namespaceWith(limits: { invocationsPerMinute?: number; firesPerMinute?: number }) {
  const name = `limited${++next}`;
  const key = `7e57${String(next).padStart(4, "0")}-0000-4000-8000-000000000000:limitedKey${next}abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012345`;
  await seedSubject(store(), key, name);
  await store().putNamespaceLimits(name, limits);
  return { name, key };
}

/** Counts restart with each wall-clock minute: start a test far enough from the turn. */
async function awayFromMinuteTurn() {
  const intoMinute = Date.now() % 60_000;
  if (intoMinute > 50_000) await new Promise((resolve) => setTimeout(resolve, 60_000 - intoMinute + 200));
}

beforeAll(seedNamespaces);

// awayFromMinuteTurn may wait up to ten seconds.
describe("rate limits", { timeout: 20_000 }, () => {
  it("answers OpenWhisk's 429 once a namespace spends its invokes of the minute, and runs nothing more", async () => {
    await awayFromMinuteTurn();
    const { name, key } = await namespaceWith({ invocationsPerMinute: 3 });
    await createAction("hello", HELLO_JS, {}, key);
    for (let i = 0; i < 3; i++) {
      expect((await call("POST", "/api/v1/namespaces/_/actions/hello?blocking=true", { auth: key })).status).toBe(200);
    }
    const refused = await call("POST", "/api/v1/namespaces/_/actions/hello?blocking=true", { auth: key });
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ error: "Too many requests in the last minute (count: 4, allowed: 3).", code: expect.any(String) });
    const nonBlocking = await call("POST", "/api/v1/namespaces/_/actions/hello", { auth: key });
    expect(nonBlocking.status).toBe(429);
    expect(nonBlocking.body.error).toBe("Too many requests in the last minute (count: 5, allowed: 3).");

    // Records reach D1 behind the answers: wait for the three, then make sure no fourth follows.
    const recorded = async () => (await call("GET", "/api/v1/namespaces/_/activations?count=true", { auth: key })).body.activations;
    for (let i = 0; i < 100 && (await recorded()) < 3; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await recorded()).toBe(3);
    // Other namespaces keep their own budget.
    expect((await call("POST", "/api/v1/namespaces/_/actions/hello?blocking=true", {})).status).not.toBe(429);
    expect(name).toMatch(/^limited/);
  });

  it("limits trigger fires per minute", async () => {
    await awayFromMinuteTurn();
    const { key } = await namespaceWith({ firesPerMinute: 2 });
    expect((await call("PUT", "/api/v1/namespaces/_/triggers/t", { body: {}, auth: key })).status).toBe(200);
    expect((await call("POST", "/api/v1/namespaces/_/triggers/t", { body: {}, auth: key })).status).toBe(204);
    expect((await call("POST", "/api/v1/namespaces/_/triggers/t", { body: {}, auth: key })).status).toBe(204);
    const refused = await call("POST", "/api/v1/namespaces/_/triggers/t", { body: {}, auth: key });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toBe("Too many requests in the last minute (count: 3, allowed: 2).");
  });

  it("counts web action requests and rule activations against the owning namespace", async () => {
    await awayFromMinuteTurn();
    const { name, key } = await namespaceWith({ invocationsPerMinute: 2 });
    await createAction("page", HELLO_JS, { annotations: [{ key: "web-export", value: true }] }, key);
    expect((await call("PUT", "/api/v1/namespaces/_/triggers/t", { body: {}, auth: key })).status).toBe(200);
    expect((await call("PUT", "/api/v1/namespaces/_/rules/r", { body: { trigger: "/_/t", action: "/_/page" }, auth: key })).status).toBe(200);

    expect((await call("GET", `/api/v1/web/${name}/default/page.json`, { auth: null })).status).toBe(200);
    const fired = await call("POST", "/api/v1/namespaces/_/triggers/t", { body: {}, auth: key });
    expect(fired.status).toBe(202);
    const triggerRecord = await waitForActivation(fired.body.activationId, key);
    expect(JSON.parse(triggerRecord.logs[0])).toMatchObject({ statusCode: 0, success: true });

    const refused = await call("GET", `/api/v1/web/${name}/default/page.json`, { auth: null });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toBe("Too many requests in the last minute (count: 3, allowed: 2).");
    const again = await call("POST", "/api/v1/namespaces/_/triggers/t", { body: {}, auth: key });
    const refusedRule = await waitForActivation(again.body.activationId, key);
    expect(JSON.parse(refusedRule.logs[0])).toMatchObject({
      success: false,
      error: "Too many requests in the last minute (count: 4, allowed: 2).",
    });
  });

  it("charges web requests only once the action is found and web-exported: anonymous 404s and 401s cost the owner nothing", { timeout: 60_000 }, async () => {
    await awayFromMinuteTurn();
    const { name, key } = await namespaceWith({ invocationsPerMinute: 3 });
    await createAction("private", HELLO_JS, {}, key);
    await createAction("secret", HELLO_JS, { annotations: [{ key: "web-export", value: true }, { key: "require-whisk-auth", value: "s3cret" }] }, key);
    const flood = async (path: (i: number) => string, status: number, n: number) => {
      for (let i = 0; i < n; i += 25) {
        const answers = await Promise.all(Array.from({ length: Math.min(25, n - i) }, (_, j) => call("GET", path(i + j), { auth: null })));
        expect(answers.map((r) => r.status)).toEqual(answers.map(() => status));
      }
    };
    await flood((i) => `/api/v1/web/${name}/default/no-such-action-${i}.json`, 404, 200);
    await flood(() => `/api/v1/web/${name}/default/private.json`, 404, 10);
    await flood(() => `/api/v1/web/${name}/default/secret.json`, 401, 10);

    for (let i = 0; i < 3; i++) {
      expect((await call("POST", "/api/v1/namespaces/_/actions/private?blocking=true", { auth: key })).status).toBe(200);
    }
    // The budget the owner spent is its own three invokes, nothing of the flood.
    const refused = await call("POST", "/api/v1/namespaces/_/actions/private?blocking=true", { auth: key });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toBe("Too many requests in the last minute (count: 4, allowed: 3).");
  });

  it("charges alarm fires to the trigger owner's fires per minute and retries a refused one", async () => {
    await awayFromMinuteTurn();
    const { name, key } = await namespaceWith({ firesPerMinute: 1 });
    const put = await call("PUT", "/api/v1/namespaces/_/triggers/tick", {
      body: { annotations: [{ key: "feed", value: "/whisk.system/alarms/interval" }] },
      auth: key,
    });
    expect(put.status).toBe(200);
    const created = await call("POST", "/api/v1/namespaces/whisk.system/actions/alarms/interval?blocking=true", {
      body: { minutes: 1, lifecycleEvent: "CREATE", triggerName: "/_/tick", authKey: key },
      auth: key,
    });
    expect(created.body.response.result).toEqual({ status: "success" });
    await createAction("hello", HELLO_JS, {}, key);
    expect((await call("PUT", "/api/v1/namespaces/_/rules/r", { body: { trigger: "/_/tick", action: "/_/hello" }, auth: key })).status).toBe(200);
    const alarm = env.ALARMS.get(env.ALARMS.idFromName(`${name}/tick`));
    const triggerActivations = async () => (await store().listActivations(name, { name: "tick" }, { limit: 10, skip: 0 })).length;

    expect(await runDurableObjectAlarm(alarm)).toBe(true);
    for (let i = 0; i < 100 && (await triggerActivations()) === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await triggerActivations()).toBe(1);
    expect(await runDurableObjectAlarm(alarm)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await triggerActivations()).toBe(1);
    await runInDurableObject(alarm, async (_instance, state) => {
      expect(state.storage.kv.get<{ attempts: number }>("state")?.attempts).toBe(1);
      // Retried within seconds, not at the next scheduled minute.
      expect((await state.storage.getAlarm())! - Date.now()).toBeLessThan(5_000);
    });
  });

  it("reports a namespace's limits, its own over the defaults, to its owner only", async () => {
    const defaults = await call("GET", "/api/v1/namespaces/_/limits");
    expect(defaults.status).toBe(200);
    expect(defaults.body).toEqual({
      invocationsPerMinute: 120,
      concurrentInvocations: 100,
      firesPerMinute: 60,
      minActionMemory: 128,
      maxActionMemory: 512,
      minActionLogs: 0,
      maxActionLogs: 10,
      minActionTimeout: 100,
      maxActionTimeout: 300000,
      minActionConcurrency: 1,
      maxActionConcurrency: 500,
      maxParameterSize: "1 MB",
      maxActionInstances: 100,
    });
    const { name, key } = await namespaceWith({ invocationsPerMinute: 7 });
    expect((await call("GET", `/api/v1/namespaces/${name}/limits`, { auth: key })).body).toMatchObject({ invocationsPerMinute: 7, firesPerMinute: 60 });
    expect((await call("GET", `/api/v1/namespaces/${name}/limits`)).status).toBe(403);
    expect((await call("DELETE", "/api/v1/namespaces/_/limits")).status).toBe(405);
  });
});
