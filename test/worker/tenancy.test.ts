// The walls between namespaces inside the invoker, tried as an attacker
// would from the inside: what one tenant leaves in a warm isolate, what a
// concurrent activation can read from process.env, and how fast a deleted
// key stops opening the API.
import { beforeAll, describe, expect, it } from "vitest";
import { call, createAction, GUEST_KEY, OTHER_KEY, seedNamespaces, store } from "./helpers.js";
import { seedSubject } from "../../src/store/seed.js";

beforeAll(seedNamespaces);

const THIRD_KEY = "5a1b2c3d-0000-4000-8000-000000000003:thirdKey0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU";

describe("warm isolates per invocation namespace", () => {
  it("never hands a module global one namespace left to another caller of the same shared action", async () => {
    await seedSubject(store(), THIRD_KEY, "third");
    // A published package whose action keeps a note in a module global.
    const pkg = await call("PUT", "/api/v1/namespaces/_/packages/notes?overwrite=true", { body: { publish: true } });
    expect(pkg.status).toBe(200);
    await createAction("notes/keeper", `let note = null;
      function main(p) { const previous = note; if (p.note) note = p.note; return { previous, ns: process.env.__OW_NAMESPACE } }`);

    const path = "/api/v1/namespaces/guest/actions/notes/keeper?blocking=true&result=true";
    const alice = await call("POST", path, { auth: OTHER_KEY, body: { note: "other's secret" } });
    expect(alice.status).toBe(200);
    expect(alice.body).toEqual({ previous: null, ns: "other" });

    const bob = await call("POST", path, { auth: THIRD_KEY, body: {} });
    expect(bob.status).toBe(200);
    expect(bob.body).toEqual({ previous: null, ns: "third" });

    // The same namespace does get its warm isolate back, as in OpenWhisk.
    const againAlice = await call("POST", path, { auth: OTHER_KEY, body: {} });
    expect(againAlice.body).toEqual({ previous: "other's secret", ns: "other" });
  });
});

describe("per-activation environment", () => {
  it("keeps each activation's __OW_ values to itself across awaits while others run in the same isolate", async () => {
    // concurrency > 1 lets activations of one namespace share the isolate.
    await createAction(
      "env-after-await",
      `async function main(p) {
        const before = process.env.__OW_ACTIVATION_ID;
        await new Promise((resolve) => setTimeout(resolve, p.wait));
        return { before, after: process.env.__OW_ACTIVATION_ID, key: process.env.__OW_API_KEY ?? null,
                 listed: Object.keys(process.env).filter((k) => k.startsWith("__OW_")).sort() };
      }`,
      { limits: { concurrency: 5 }, annotations: [{ key: "provide-api-key", value: false }] },
    );
    const invoke = (wait: number) =>
      call("POST", "/api/v1/namespaces/_/actions/env-after-await?blocking=true", { body: { wait } });
    const [slow, fast, other] = await Promise.all([invoke(300), invoke(50), invoke(150)]);
    for (const res of [slow, fast, other]) {
      expect(res.status).toBe(200);
      const result = res.body.response.result;
      expect(result.before).toBe(res.body.activationId);
      expect(result.after).toBe(res.body.activationId);
      expect(result.key).toBeNull();
      expect(result.listed).not.toContain("__OW_API_KEY");
    }
  });

  it("shows the API key only to activations of actions that ask for it, even in one isolate", async () => {
    await createAction(
      "key-reader",
      `async function main(p) {
        await new Promise((resolve) => setTimeout(resolve, p.wait));
        return { key: process.env.__OW_API_KEY ?? null, has: "__OW_API_KEY" in process.env };
      }`,
      { annotations: [{ key: "provide-api-key", value: true }] },
    );
    const res = await call("POST", "/api/v1/namespaces/_/actions/key-reader?blocking=true&result=true", { body: { wait: 10 } });
    expect(res.body).toEqual({ key: GUEST_KEY, has: true });
  });
});

describe("key revocation", () => {
  it("stops accepting a deleted key within 2 seconds", async () => {
    const key = "5a1b2c3d-0000-4000-8000-000000000004:revokedKey0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQR";
    await seedSubject(store(), key, "revoked");
    expect((await call("GET", "/api/v1/namespaces/_/actions", { auth: key })).status).toBe(200);
    // wskadmin user delete removes the subject row.
    const uuid = key.split(":")[0];
    const { env } = await import("cloudflare:workers");
    await env.DB.prepare("DELETE FROM subjects WHERE uuid = ?").bind(uuid).run();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const after = await call("GET", "/api/v1/namespaces/_/actions", { auth: key });
    expect(after.status).toBe(401);
    expect(after.body).toMatchObject({ error: "The supplied authentication is invalid" });
  });
});
