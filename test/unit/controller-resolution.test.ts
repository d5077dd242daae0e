// The controller's invokes resolve their action through the host's
// ResolutionCache: a warm non-blocking invoke reads no entity, a change
// made through this controller is seen at once, a change made elsewhere
// within the cache's TTL.
import { describe, expect, it, vi } from "vitest";
import { createApp } from "../../src/api/app.js";
import { RESOLUTION_TTL_MS } from "../../src/core/resolve.js";
import { seedSubject } from "../../src/store/seed.js";
import { createTestPlatform } from "../support/platform.js";

const KEY = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP";
const headers = { authorization: `Basic ${btoa(KEY)}`, "content-type": "application/json" };
const CODE = { exec: { kind: "nodejs:20", code: "function main(p) { return p; }" } };

async function setUp() {
  const time = { now: Date.UTC(2026, 0, 1) };
  const t = createTestPlatform({ now: () => time.now });
  await seedSubject(t.store, KEY, "guest");
  const app = createApp(() => t.platform);
  const reads = vi.spyOn(t.store, "getEntity");
  const request = (method: string, path: string, body?: unknown) =>
    app.request(`/api/v1/namespaces/_/${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  /** Entity reads of `name` that `work` makes. */
  const readsOf = async (name: string, work: () => Promise<unknown>) => {
    reads.mockClear();
    await work();
    return reads.mock.calls.filter(([ref]) => ref.name === name).length;
  };
  return { t, time, request, readsOf };
}

describe("the controller's resolution of invoked actions", () => {
  it("reads the action for the first non-blocking invoke only", async () => {
    const { request, readsOf } = await setUp();
    expect((await request("PUT", "actions/greet", CODE)).status).toBe(200);

    expect(await readsOf("greet", async () => expect((await request("POST", "actions/greet", {})).status).toBe(202))).toBe(1);
    expect(await readsOf("greet", async () => expect((await request("POST", "actions/greet", {})).status).toBe(202))).toBe(0);
  });

  it("answers 404 at once for an action deleted through this controller", async () => {
    const { request } = await setUp();
    await request("PUT", "actions/greet", CODE);
    expect((await request("POST", "actions/greet", {})).status).toBe(202);

    expect((await request("DELETE", "actions/greet")).status).toBe(200);
    expect((await request("POST", "actions/greet", {})).status).toBe(404);
  });

  it("answers 404 at once for an action reached through a binding deleted through this controller", async () => {
    const { request } = await setUp();
    await request("PUT", "packages/lib", {});
    await request("PUT", "actions/lib/greet", CODE);
    expect((await request("PUT", "packages/bound", { binding: { namespace: "guest", name: "lib" } })).status).toBe(200);
    expect((await request("POST", "actions/bound/greet", {})).status).toBe(202);

    expect((await request("DELETE", "packages/bound")).status).toBe(200);
    expect((await request("POST", "actions/bound/greet", {})).status).toBe(404);
  });

  it("sees an action deleted elsewhere once the TTL has passed", async () => {
    const { t, time, request } = await setUp();
    await request("PUT", "actions/greet", CODE);
    expect((await request("POST", "actions/greet", {})).status).toBe(202);
    const stored = await t.store.getEntity({ namespace: "guest", name: "greet" });
    expect(await t.store.deleteEntity(stored!.ref, stored!.rev)).toBe(true);

    expect((await request("POST", "actions/greet", {})).status).toBe(202);
    time.now += RESOLUTION_TTL_MS;
    expect((await request("POST", "actions/greet", {})).status).toBe(404);
  });
});
