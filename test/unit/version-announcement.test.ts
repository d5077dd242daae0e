// A controller tells an action's invokers of a new version before it writes
// it (Invokers.announce), so that an invoker that ran the action lately
// starts the version's isolate while the write and the answer go on.
import { describe, expect, it, vi } from "vitest";
import { createApp } from "../../src/api/app.js";
import { seedSubject } from "../../src/store/seed.js";
import { createTestPlatform } from "../support/platform.js";

const KEY = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP";
const headers = { authorization: `Basic ${btoa(KEY)}`, "content-type": "application/json" };
const code = (v: number) => ({ exec: { kind: "nodejs:20", code: `function main() { return { v: ${v} }; }` } });

async function setUp() {
  const started: Promise<void>[] = [];
  const t = createTestPlatform({ background: (work) => void started.push(work) });
  await seedSubject(t.store, KEY, "guest");
  const app = createApp(() => t.platform);
  const request = (method: string, path: string, body?: unknown) =>
    app.request(`/api/v1/namespaces/_/${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const announce = vi.spyOn(t.platform.invokers, "announce");
  const updateEntity = vi.spyOn(t.store, "updateEntity");
  const settled = () => Promise.all([...t.deferred, ...started]);
  return { t, request, announce, updateEntity, settled };
}

describe("announcing a new version of an action", () => {
  it("announces an update with new code before writing it, and its invoker starts the version's isolate", async () => {
    const { t, request, announce, updateEntity, settled } = await setUp();
    t.isolates.define("/guest/greet", (_p, run) => ({ version: run.request.actionVersion }));
    expect((await request("PUT", "actions/greet", code(1))).status).toBe(200);
    expect(announce).not.toHaveBeenCalled();
    expect((await request("POST", "actions/greet?blocking=true", {})).status).toBe(200);

    expect((await request("PUT", "actions/greet?overwrite=true", code(2))).status).toBe(200);
    expect(announce).toHaveBeenCalledTimes(1);
    const [upcoming] = announce.mock.calls[0]!;
    expect(upcoming).toMatchObject({ ref: { namespace: "guest", name: "greet" }, doc: { version: "0.0.2" }, code: code(2).exec.code });
    expect(upcoming.doc.exec).not.toHaveProperty("code");
    expect(announce.mock.invocationCallOrder[0]).toBeLessThan(updateEntity.mock.invocationCallOrder[0]!);
    await settled();
    expect(t.isolates.prepared).toHaveLength(1);
    expect(t.isolates.prepared[0]).toContain(`@0.0.2#${upcoming.codeDigest}`);

    const first = await request("POST", "actions/greet?blocking=true", {});
    expect(await first.json()).toMatchObject({ response: { result: { version: "0.0.2" } } });
    expect(t.isolates.runs.at(-1)).toMatchObject({ key: t.isolates.prepared[0], cold: false });
  });

  it("announces an update that keeps the code without it, and its invoker starts the version with the code it has", async () => {
    const { t, request, announce, settled } = await setUp();
    t.isolates.define("/guest/greet", (_p, run) => ({ version: run.request.actionVersion }));
    await request("PUT", "actions/greet", code(1));
    expect((await request("POST", "actions/greet?blocking=true", {})).status).toBe(200);

    expect((await request("PUT", "actions/greet?overwrite=true", { parameters: [{ key: "p", value: 1 }] })).status).toBe(200);
    expect(announce).toHaveBeenCalledTimes(1);
    const [upcoming] = announce.mock.calls[0]!;
    expect(upcoming).toMatchObject({ doc: { version: "0.0.2", parameters: [{ key: "p", value: 1 }] } });
    expect(upcoming).not.toHaveProperty("code");
    await settled();
    expect(t.isolates.prepared).toEqual([expect.stringContaining(`@0.0.2#${upcoming.codeDigest}`)]);
    expect(t.isolates.built.get(t.isolates.prepared[0]!)?.modules["action.js"]).toMatchObject({ cjs: expect.stringContaining("v: 1") });
  });

  it("announces nothing in a package, nor a sequence", async () => {
    const { request, announce } = await setUp();
    await request("PUT", "packages/lib", {});
    await request("PUT", "actions/lib/greet", code(1));
    expect((await request("PUT", "actions/lib/greet?overwrite=true", code(2))).status).toBe(200);
    await request("PUT", "actions/greet", code(1));
    await request("PUT", "actions/both", { exec: { kind: "sequence", components: ["/guest/greet"] } });
    expect((await request("PUT", "actions/both?overwrite=true", { exec: { kind: "sequence", components: ["/guest/greet", "/guest/greet"] } })).status).toBe(200);
    expect(announce).not.toHaveBeenCalled();
  });
});
