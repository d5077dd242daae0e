// Abusive actions end as their own activations with OpenWhisk's records:
// floods of logs (issue: containment), inside workerd with real bindings.
import { beforeAll, describe, expect, it } from "vitest";
import { call, createAction, seedNamespaces } from "./helpers.js";

beforeAll(seedNamespaces);

const encoder = new TextEncoder();

describe("log floods", () => {
  it("keeps the result of an action that logs ten million lines, its logs cut at the limit as stored", async () => {
    await createAction(
      "logflood",
      `function main(p) { for (let i = 0; i < p.lines; i++) console.log("x"); return { done: p.lines }; }`,
      { limits: { logs: 1 } },
    );
    const res = await call("POST", "/api/v1/namespaces/_/actions/logflood?blocking=true", { body: { lines: 10_000_000 } });
    expect(res.status).toBe(200);
    expect(res.body.response).toMatchObject({ status: "success", result: { done: 10_000_000 } });
    const logs: string[] = res.body.logs;
    expect(logs.at(-1)).toMatch(/stderr: Logs were truncated because the total bytes size exceeds the limit of 1048576 bytes\.$/);
    const stored = logs.slice(0, -1).reduce((sum, line) => sum + encoder.encode(line).length, 0);
    expect(stored).toBeLessThanOrEqual(1_048_576);
    // Each stored line is "<ISO time> stdout: x": the prefix counts.
    expect(logs.length - 1).toBe(Math.floor(1_048_576 / encoder.encode(logs[0]).length));
  }, 60_000);
});

describe("log floods at the default limit", () => {
  it("records a million-line log at the default 10 MB limit, truncated, with its result", async () => {
    await createAction("logmillion", `function main() { for (let i = 0; i < 1_000_000; i++) console.log("x"); return { ok: true }; }`);
    const res = await call("POST", "/api/v1/namespaces/_/actions/logmillion?blocking=true", { body: {} });
    expect(res.status).toBe(200);
    expect(res.body.response).toMatchObject({ status: "success", result: { ok: true } });
    expect(res.body.logs.at(-1)).toMatch(/Logs were truncated/);
    const recorded = await call("GET", `/api/v1/namespaces/_/activations/${res.body.activationId}`);
    expect(recorded.status).toBe(200);
    expect(recorded.body.logs.length).toBe(res.body.logs.length);
  }, 60_000);
});

describe("the preinstalled openwhisk client", () => {
  it("waits out a blocking call longer than 10 s and writes nothing of its own to the logs", async () => {
    await createAction("sleeper", `function main(p) { return new Promise((r) => setTimeout(() => r({ slept: p.ms }), p.ms)); }`);
    await createAction(
      "caller",
      `const openwhisk = require("openwhisk");
      async function main(p) {
        console.log("calling");
        return openwhisk().actions.invoke({ name: "sleeper", blocking: true, result: true, params: { ms: p.ms } });
      }`,
      { annotations: [{ key: "provide-api-key", value: true }], limits: { timeout: 30_000 } },
    );
    const res = await call("POST", "/api/v1/namespaces/_/actions/caller?blocking=true", { body: { ms: 12_000 } });
    expect(res.status).toBe(200);
    expect(res.body.response).toMatchObject({ status: "success", result: { slept: 12_000 } });
    expect(res.body.logs).toHaveLength(1);
    expect(res.body.logs[0]).toMatch(/stdout: calling$/);
  }, 30_000);
});

describe("zip bombs", () => {
  it("refuses at create time an archive expanding past the bounds, and stores nothing", async () => {
    const { zipSync, strToU8 } = await import("fflate");
    const bomb = zipSync({ "index.js": strToU8("exports.main = () => ({})"), "pad.bin": new Uint8Array(65 * 1024 * 1024) }, { level: 9 });
    let binary = "";
    for (const byte of bomb) binary += String.fromCharCode(byte);
    const res = await call("PUT", "/api/v1/namespaces/_/actions/zipbomb", { body: { exec: { kind: "nodejs:default", code: btoa(binary) } } });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/^The action archive expands to \d+ bytes, more than the 67108864 bytes allowed\.$/);
    expect((await call("GET", "/api/v1/namespaces/_/actions/zipbomb")).status).toBe(404);
  }, 30_000);
});
