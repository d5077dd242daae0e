// Containment on `npm start`, as a hostile or careless tenant would try it:
// a spinning action ends as its own timed-out activation while other
// tenants' actions and the API keep answering, and the server needs no
// manual restart afterwards (local workerd enforces no CPU limit; the local
// isolate sidecar contains it).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, OTHER_KEY, OTHER_NAMESPACE } from "./scenarios.js";
import { startWranglerServer, type RunningServer } from "./server.js";

let server: RunningServer;

beforeAll(async () => {
  server = await startWranglerServer({ [OTHER_NAMESPACE]: OTHER_KEY });
}, 180_000);

afterAll(async () => {
  await server?.stop();
});

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((values.length * p) / 100))];

describe("a runaway action on npm start", () => {
  it("ends as its own timeout within its limit and a second, while another tenant's echo keeps answering", async () => {
    const spinner = client({ apihost: server.url });
    const neighbour = client({ apihost: server.url }, OTHER_KEY);
    await spinner.actions.create({ name: "spin", action: "function main() { while (true) {} }", limits: { timeout: 1_000 } });
    await neighbour.actions.create({ name: "echo", action: "function main(p) { return { i: p.i } }" });
    await neighbour.actions.invoke({ name: "echo", blocking: true, result: true, params: { i: -1 } });

    const started = Date.now();
    const spin = spinner.actions.invoke({ name: "spin", blocking: true }).catch((err: { error?: unknown }) => err.error);
    const latencies: number[] = [];
    for (let i = 0; Date.now() - started < 2_500; i++) {
      const t0 = Date.now();
      expect(await neighbour.actions.invoke({ name: "echo", blocking: true, result: true, params: { i } })).toEqual({ i });
      latencies.push(Date.now() - t0);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const record = (await spin) as { response: { result: unknown; status: string }; duration: number; annotations: { key: string; value: unknown }[] };
    expect(record.response).toMatchObject({
      status: "action developer error",
      result: { error: "The action exceeded its time limits of 1000 milliseconds." },
    });
    expect(record.annotations).toContainEqual({ key: "timeout", value: true });
    expect(record.duration).toBeLessThanOrEqual(2_000 + 250);
    console.log(`echo during a spin: ${latencies.length} calls, p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms, max ${Math.max(...latencies)} ms; spinner ended after ${record.duration} ms`);
    // Nearly all answer at once. One can take longer: an echo placed on the spinner's child before it is seen
    // to stall runs again on its replacement, slower on a loaded machine (one of 1093 ms was seen once in a
    // full suite). Without containment the local server would wedge and none would answer.
    expect(percentile(latencies, 95)).toBeLessThan(1_000);
    expect(Math.max(...latencies)).toBeLessThan(2_500);

    // The server answers on its own afterwards, and the spinner's namespace can run again.
    expect((await fetch(`${server.url}/api/v1`)).status).toBe(200);
    await spinner.actions.create({ name: "after", action: "function main() { return { alive: true } }" });
    expect(await spinner.actions.invoke({ name: "after", blocking: true, result: true })).toEqual({ alive: true });
  }, 60_000);

  it("ends a memory bomb near its own limit as OpenWhisk's memory error, while another tenant's activation succeeds", async () => {
    const bomber = client({ apihost: server.url });
    const neighbour = client({ apihost: server.url }, OTHER_KEY);
    // Up to 400 MB in 16 MB steps, touched so the pages are really resident.
    await bomber.actions.create({
      name: "bomb",
      action: `async function main() {
        const held = [];
        for (let i = 0; i < 25; i++) { const b = new Uint8Array(16 * 1024 * 1024); b.fill(1); held.push(b); await new Promise((r) => setTimeout(r, 40)); }
        return { survived: held.length };
      }`,
      limits: { memory: 128, timeout: 20_000 },
    });
    await neighbour.actions.create({ name: "sleeper", action: "function main(p) { return new Promise((r) => setTimeout(() => r({ slept: p.ms }), p.ms)); }" });

    const [bomb, sleeper] = await Promise.all([
      bomber.actions.invoke({ name: "bomb", blocking: true }).catch((err: { error?: unknown }) => err.error),
      neighbour.actions.invoke({ name: "sleeper", blocking: true, result: true, params: { ms: 1_500 } }),
    ]);
    expect(sleeper).toEqual({ slept: 1_500 });
    expect((bomb as { response: unknown }).response).toMatchObject({
      status: "action developer error",
      result: { error: "The action exhausted its memory and was aborted." },
    });
    // Not retried: one record, and the namespace runs again at once.
    await bomber.actions.create({ name: "after-bomb", action: "function main() { return { alive: true } }" });
    expect(await bomber.actions.invoke({ name: "after-bomb", blocking: true, result: true })).toEqual({ alive: true });
  }, 60_000);

  it("lets an action wait 30 s on a blocking call through the preinstalled openwhisk client, with no client noise in its logs", async () => {
    const ow = client({ apihost: server.url });
    await ow.actions.create({ name: "sleep30", action: "function main() { return new Promise((r) => setTimeout(() => r({ slept: 30000 }), 30000)); }", limits: { timeout: 60_000 } });
    await ow.actions.create({
      name: "caller30",
      action: "const openwhisk = require('openwhisk'); async function main() { return openwhisk().actions.invoke({ name: 'sleep30', blocking: true, result: true }); }",
      limits: { timeout: 60_000 },
      annotations: { "provide-api-key": true },
    });
    const record = await ow.actions.invoke({ name: "caller30", blocking: true });
    expect(record.response).toMatchObject({ success: true, result: { slept: 30_000 } });
    expect(record.logs).toEqual([]);
  }, 70_000);
});
