// Containment on the Node host, with real workerd children: a spinning or
// memory-hungry action stalls or loses only the child it runs on, is answered
// with OpenWhisk's timeout or memory error, and other tenants keep answering.
// Allocations stay small (a few hundred MB) for a shared 2-core CI machine.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { IsolateSpec } from "../../src/ports/isolate-host.js";
import { runnerSource } from "../../src/node/runner-source.js";
import { place } from "../../src/node/workerd/placement.js";
import { WorkerdSupervisor } from "../../src/node/workerd/supervisor.js";
import { actionModules } from "../../src/runtime/modules.js";
import type { RunRequest } from "../../src/runtime/protocol.js";

const CHILDREN = 3;
const MEMORY_ERROR = "The action exhausted its memory and was aborted.";

const ECHO = "function main(p) { return p; }";
const SLEEPY = "async function main(p) { await new Promise(r => setTimeout(r, p.ms)); return { slept: p.ms }; }";
const SPIN = "function main() { while (true) {} }";
// 16 MB every 40 ms up to 400 MB, then it would report success: a memory
// limit that acts lets it get nowhere near that.
const BOMB = `async function main() {
  const keep = [];
  for (let i = 0; i < 25; i++) {
    keep.push(new Float64Array(2 << 20).fill(i));
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
  return { allocatedMb: keep.length * 16 };
}`;

// The same growth at 160 MB a second: the supervisor samples memory every
// 250 ms, and BOMB's 400 MB a second could pass from under 64 MB above the
// child's rest to over its budget between two samples, so that no sample
// showed it grown while it lived (the late-tenant test then failed at load).
const SLOW_BOMB = BOMB.replace("setTimeout(resolve, 40)", "setTimeout(resolve, 100)");

/** An isolate key as the executor makes it, for an action of `namespace`. */
const isolateKey = (namespace: string, name: string) => `${namespace}>${namespace}/${name}@0.0.1#|main/0`;

/** A key of `namespace` whose first choice in the pool is `position`. */
function keyAt(position: number, namespace: string, name: string): string {
  for (let i = 0; ; i++) {
    const key = isolateKey(namespace, `${name}${i}`);
    if (place(key, CHILDREN, () => true) === position) return key;
  }
}

function spec(key: string, code: string, memoryMb = 256): IsolateSpec {
  return { key, memoryMb, timeoutMs: 5_000, build: async () => actionModules(runnerSource, { code, binary: false, main: "main" }) };
}

function runRequest(params: Record<string, unknown>, timeoutMs: number): RunRequest {
  return {
    params,
    initEnv: {},
    mainName: "main",
    activationId: "c".repeat(32),
    transactionId: "t",
    namespace: "tenant",
    actionName: "/tenant/action",
    actionVersion: "0.0.1",
    apiHost: "http://127.0.0.1",
    deadline: Date.now() + timeoutMs,
    logLimitBytes: 1024 * 1024,
  };
}

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

function summary(latencies: number[]) {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1)! };
}

/** Runs an echo of `key` back to back until `until` settles; its latencies. */
async function echoWhile(supervisor: WorkerdSupervisor, key: string, until: Promise<unknown>): Promise<number[]> {
  let done = false;
  void until.finally(() => (done = true));
  const latencies: number[] = [];
  while (!done) {
    const started = performance.now();
    const run = await supervisor.run(spec(key, ECHO), runRequest({ n: latencies.length }, 5_000));
    latencies.push(performance.now() - started);
    expect(run.reply).toMatchObject({ outcome: "result", result: { n: latencies.length - 1 } });
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return latencies;
}

describe("containment by a pool of workerd children", () => {
  const supervisor = new WorkerdSupervisor({ memoryLimitMb: 1024, children: CHILDREN });
  const errors: string[] = [];

  beforeAll(async () => {
    const started = performance.now();
    await supervisor.start();
    console.log(
      `containment: ${CHILDREN} children and a spare serving after ${Math.round(performance.now() - started)} ms; ` +
        `each started in ${supervisor.status().children.map((c) => c.startMs).join(", ")} ms, ` +
        `resident ${supervisor.status().children.map((c) => c.rssMb ?? "?").join(", ")} MB`,
    );
    vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void errors.push(args.join(" ")));
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await supervisor.stop();
  });

  it("answers a spinner with the timeout within its limit + 1 s while other tenants' echoes keep answering", async () => {
    const spinKey = keyAt(0, "mallory", "spin");
    const before = supervisor.status().restarts;
    // Warm both echoes first: the latencies measured are warm ones, as a busy tenant's are.
    const elsewhere = keyAt(1, "alice", "echo");
    const sameChild = keyAt(0, "bob", "echo");
    for (const key of [elsewhere, sameChild]) await supervisor.run(spec(key, ECHO), runRequest({ n: 0 }, 5_000));

    const started = performance.now();
    const spinning = supervisor.run(spec(spinKey, SPIN), runRequest({}, 1_000)).then((run) => ({ run, ms: performance.now() - started }));
    const otherChild = echoWhile(supervisor, elsewhere, spinning);
    // Once the spinner holds its child's thread, work placed there spills to the next child.
    await new Promise((resolve) => setTimeout(resolve, 700));
    const spilled = echoWhile(supervisor, sameChild, spinning);
    const { run, ms } = await spinning;

    expect(run.reply.outcome).toBe("timeout");
    expect(ms).toBeLessThan(2_000);
    expect(supervisor.status().restarts).toBe(before + 1);
    const other = summary(await otherChild);
    const spill = summary(await spilled);
    console.log(`containment: spinner (1 s limit) answered after ${Math.round(ms)} ms`);
    console.log(`containment: echo on another child during the spin: ${JSON.stringify(other)} ms`);
    console.log(`containment: echo placed on the spinner's child, from 0.7 s into the spin: ${JSON.stringify(spill)} ms`);
    expect(other.n).toBeGreaterThan(10);
    expect(other.max).toBeLessThan(1_000);
    expect(spill.max).toBeLessThan(1_000);
  });

  it("ends a memory bomb with the memory error near its own limit, once, while another tenant's activation on another child runs", async () => {
    const before = supervisor.status().restarts;
    errors.length = 0;
    const started = performance.now();
    const bomb = supervisor.run(spec(keyAt(0, "mallory", "bomb"), BOMB, 128), runRequest({}, 10_000));
    const other = supervisor.run(spec(keyAt(1, "alice", "sleepy"), SLEEPY), runRequest({ ms: 1_500 }, 10_000));
    const bombRun = await bomb;
    const ms = performance.now() - started;

    expect(bombRun.reply).toMatchObject({ outcome: "developer", message: MEMORY_ERROR });
    expect(ms).toBeLessThan(5_000);
    expect(await other).toMatchObject({ reply: { outcome: "result", result: { slept: 1_500 } } });
    // The bomb's child only: not retried onto the spare.
    expect(supervisor.status().restarts).toBe(before + 1);
    const kill = errors.find((line) => /above its budget/.test(line));
    console.log(`containment: bomb (128 MB limit) answered after ${Math.round(ms)} ms: ${kill}`);
  });

  it("blames the bomb, not a tenant already running on its child, and runs that tenant's activation again", async () => {
    const before = supervisor.status().restarts;
    errors.length = 0;
    const neighbour = supervisor.run(spec(keyAt(2, "alice", "sleepy"), SLEEPY, 128), runRequest({ ms: 6_000 }, 15_000));
    // Past its cold start, which holds the child's thread for a moment (work would spill elsewhere meanwhile).
    await waitFor(() => supervisor.status().children[2]!.inFlight === 1);
    await new Promise((resolve) => setTimeout(resolve, 600));
    const bomb = supervisor.run(spec(keyAt(2, "mallory", "bomb"), BOMB, 128), runRequest({}, 15_000));

    expect(await bomb).toMatchObject({ reply: { outcome: "developer", message: MEMORY_ERROR } });
    const kill = errors.find((line) => /above its budget/.test(line));
    expect(kill).toMatch(/\(2 activation\(s\) in flight\)/);
    expect(await neighbour).toMatchObject({ cold: true, reply: { outcome: "result", result: { slept: 6_000 } } });
    expect(supervisor.status().restarts).toBe(before + 1);
    console.log(`containment: shared child: ${kill}`);
  });

  it("clears a tenant that began on the bomb's child after it grew", async () => {
    const before = supervisor.status().restarts;
    errors.length = 0;
    const restingMb = supervisor.status().children[1]!.rssMb!;
    const bomb = supervisor.run(spec(keyAt(1, "mallory", "bomb"), SLOW_BOMB, 128), runRequest({}, 15_000));
    await waitFor(() => supervisor.status().children[1]!.rssMb! > restingMb + 64);
    const late = supervisor.run(spec(keyAt(1, "alice", "sleepy"), SLEEPY, 128), runRequest({ ms: 6_000 }, 15_000));

    expect(await bomb).toMatchObject({ reply: { outcome: "developer", message: MEMORY_ERROR } });
    const kill = errors.find((line) => /above its budget/.test(line));
    expect(kill).toMatch(/\(2 activation\(s\) in flight\)/);
    expect(await late).toMatchObject({ reply: { outcome: "result", result: { slept: 6_000 } } });
    expect(supervisor.status().restarts).toBe(before + 1);
    console.log(`containment: late neighbour: ${kill}`);
  });

  it("still serves on every child afterwards", async () => {
    for (let position = 0; position < CHILDREN; position++) {
      const run = await supervisor.run(spec(keyAt(position, "carol", "echo"), ECHO), runRequest({ position }, 5_000));
      expect(run.reply).toMatchObject({ outcome: "result", result: { position } });
    }
    expect(supervisor.status()).toMatchObject({ ready: true });
    expect(supervisor.status().children.every((c) => c.pid !== undefined)).toBe(true);
  });
});
