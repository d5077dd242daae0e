// The workerd supervisor with real workerd children and the real runner.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { IsolateStartError, type IsolateRun, type IsolateSpec } from "../../src/ports/isolate-host.js";
import { place } from "../../src/node/workerd/placement.js";
import { WorkerdSupervisor } from "../../src/node/workerd/supervisor.js";
import { runnerSource } from "../../src/node/runner-source.js";
import { actionModules } from "../../src/runtime/modules.js";
import type { RunRequest } from "../../src/runtime/protocol.js";

const CHILDREN = 2;

/** An isolate key whose first choice in the pool is `position`. */
function keyAt(position: number, name: string): string {
  for (let i = 0; ; i++) {
    const key = `guest>guest/${name}${i}@0.0.1#|main`;
    if (place(key, CHILDREN, () => true) === position) return key;
  }
}

function spec(key: string, code: string, timeoutMs = 5_000): IsolateSpec {
  return { key, memoryMb: 256, timeoutMs, build: async () => actionModules(runnerSource, { code, binary: false, main: "main" }) };
}

function runRequest(params: Record<string, unknown>, timeoutMs = 5_000): RunRequest {
  return {
    params,
    initEnv: {},
    mainName: "main",
    activationId: "a".repeat(32),
    transactionId: "t",
    namespace: "guest",
    actionName: "/guest/test",
    actionVersion: "0.0.1",
    apiHost: "http://127.0.0.1",
    deadline: Date.now() + timeoutMs,
    logLimitBytes: 10 * 1024 * 1024,
  };
}

const HELLO = "function main(p) { console.log('hi ' + p.name); return { payload: 'Hello, ' + p.name }; }";
const SLEEPY = "async function main(p) { await new Promise(r => setTimeout(r, p.ms)); return { slept: p.ms }; }";
const SPIN = "function main() { while (true) {} }";
// 8 MB every 20 ms: past its 256 MB limit within a second, but slow enough
// that the supervisor, not V8's own heap limit, is what stops it.
const HOG = `const keep = [];
async function main() {
  for (;;) {
    keep.push(new Float64Array(1 << 20).fill(1));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}`;

describe("workerd supervisor", () => {
  const supervisor = new WorkerdSupervisor({ memoryLimitMb: 400, children: CHILDREN });

  beforeAll(() => supervisor.start());
  afterAll(() => supervisor.stop());

  it("runs an action in a workerd isolate and keeps it warm", async () => {
    const first = await supervisor.run(spec("hello", HELLO), runRequest({ name: "workerd" }));
    expect(first.cold).toBe(true);
    expect(first.reply).toMatchObject({ outcome: "result", result: { payload: "Hello, workerd" } });
    expect(first.reply.logs[0]).toMatch(/stdout: hi workerd$/);
    const second = await supervisor.run(spec("hello", HELLO), runRequest({ name: "again" }));
    expect(second).toMatchObject({ cold: false, reply: { result: { payload: "Hello, again" } } });
  });

  it("places the next activation on a child that has just answered, though its ping waited behind a long run", async () => {
    // Holds the child's one thread for well over the 250 ms after which an unanswered ping passes a child over
    // (an isolate's clock stands still while it computes, so the loop counts instead of timing).
    const busy = "function main(p) { let x = 0; for (let i = 0; i < p.n; i++) x = (x + i) | 0; return { x }; }";
    const key = keyAt(1, "busy");
    const first = await supervisor.run(spec(key, busy, 30_000), runRequest({ n: 5e8 }, 30_000));
    expect(first).toMatchObject({ cold: true, reply: { outcome: "result" } });
    expect(await supervisor.run(spec(key, busy, 30_000), runRequest({ n: 1 }, 30_000))).toMatchObject({ cold: false, reply: { result: { x: 0 } } });
  }, 60_000);

  it("reports a syntax error as a start failure, in the isolate's own words", async () => {
    const err = await supervisor.run(spec("broken", "function main( {"), runRequest({})).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IsolateStartError);
    expect((err as Error).message).toMatch(/^SyntaxError/);
  });

  it("starts an isolate ahead of its first activation without loading the action, which that activation initialises", async () => {
    const code = "console.log('top level'); function main() { return { ok: true }; }";
    const key = keyAt(0, "prepared");
    const prepared = await supervisor.run(spec(key, code), { ...runRequest({}), prepare: true });
    expect(prepared).toEqual({ cold: true, reply: { outcome: "prepared", logs: [], truncated: false } });
    const first = await supervisor.run(spec(key, code), runRequest({}));
    // The module's top-level line goes to the activation that imported it: the first, not the preparation.
    expect(first).toMatchObject({ cold: false, reply: { outcome: "result", result: { ok: true } } });
    expect(first.reply.logs).toEqual([expect.stringMatching(/stdout: top level$/)]);
    expect(first.reply.initMs).toEqual(expect.any(Number));
    const second = await supervisor.run(spec(key, code), runRequest({}));
    expect(second.reply.initMs).toBeUndefined();
  });

  it("leaves an action's initialisation error to its first activation, in the same words as without a preparation", async () => {
    const code = "throw new Error('no config'); function main() { return {}; }";
    const unprepared = await supervisor.run(spec(keyAt(0, "throws"), code), runRequest({}));
    const key = keyAt(1, "throwsPrepared");
    expect((await supervisor.run(spec(key, code), { ...runRequest({}), prepare: true })).reply.outcome).toBe("prepared");
    const first = await supervisor.run(spec(key, code), runRequest({}));
    const words = ({ reply }: IsolateRun) => ({
      ...reply,
      initMs: typeof reply.initMs,
      logs: reply.logs.map((line) => line.replace(/^\S+ /, "")),
    });
    expect(unprepared.reply).toMatchObject({ outcome: "init", message: expect.stringMatching(/^Initialization has failed due to: Error: no config/) });
    expect(words(first)).toEqual(words(unprepared));
  });

  it("loads a discarded key's isolate afresh", async () => {
    const key = keyAt(1, "retired");
    expect(await supervisor.run(spec(key, HELLO), runRequest({ name: "one" }))).toMatchObject({ cold: true });
    expect(await supervisor.run(spec(key, HELLO), runRequest({ name: "two" }))).toMatchObject({ cold: false });
    supervisor.discard(key);
    expect(await supervisor.run(spec(key, HELLO), runRequest({ name: "three" }))).toMatchObject({ cold: true });
  });

  it("kills a child wedged by an infinite loop, answers the timeout and re-runs an activation caught there on its replacement", async () => {
    const before = supervisor.status();
    const spinKey = keyAt(0, "spin");
    // One activation on the spinner's child (it is caught there), one on the other (it is not disturbed).
    const caught = supervisor.run(spec(keyAt(0, "sleepy"), SLEEPY), runRequest({ ms: 1_500 }, 20_000));
    const elsewhere = supervisor.run(spec(keyAt(1, "sleepy"), SLEEPY), runRequest({ ms: 1_500 }, 20_000));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const spinning = await supervisor.run(spec(spinKey, SPIN, 1_000), runRequest({}, 1_000));
    expect(spinning.reply.outcome).toBe("timeout");
    expect(await caught).toMatchObject({ cold: true, reply: { outcome: "result", result: { slept: 1_500 } } });
    expect(await elsewhere).toMatchObject({ reply: { outcome: "result", result: { slept: 1_500 } } });
    const after = supervisor.status();
    expect(after.restarts).toBe(before.restarts + 1);
    expect(after.children[0]!.pid).not.toBe(before.children[0]!.pid);
    expect(after.children[1]!.pid).toBe(before.children[1]!.pid);
    const hello = await supervisor.run(spec("hello", HELLO), runRequest({ name: "recovered" }));
    expect(hello.reply).toMatchObject({ outcome: "result", result: { payload: "Hello, recovered" } });
  });

  it("replaces a child whose action passes its memory limit and answers with OpenWhisk's memory error, without retrying it", async () => {
    const before = supervisor.status();
    const hog = await supervisor.run(spec("hog", HOG, 20_000), runRequest({}, 20_000));
    expect(hog.reply).toMatchObject({ outcome: "developer", message: "The action exhausted its memory and was aborted." });
    expect(supervisor.status().restarts).toBe(before.restarts + 1);
    const hello = await supervisor.run(spec("hello", HELLO), runRequest({ name: "after" }));
    expect(hello.reply).toMatchObject({ outcome: "result", result: { payload: "Hello, after" } });
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("workerd supervisor rotation", () => {
  // One child that may load three isolates: the fourth new one rotates it out.
  const supervisor = new WorkerdSupervisor({ memoryLimitMb: 1024, children: 1, maxIsolatesPerChild: 3 });

  beforeAll(() => supervisor.start());
  afterAll(() => supervisor.stop());

  it("rotates a child that has loaded its share of isolates without failing what runs there", async () => {
    const firstPid = supervisor.status().pid;
    // Still running on the old child while new versions fill it up.
    const slow = supervisor.run(spec("sleepy@1", SLEEPY), runRequest({ ms: 4_000 }, 10_000));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const versions = [];
    for (let v = 2; v <= 7; v++) versions.push(await supervisor.run(spec(`hello@${v}`, HELLO), runRequest({ name: `v${v}` })));
    for (const [i, run] of versions.entries()) expect(run.reply).toMatchObject({ outcome: "result", result: { payload: `Hello, v${i + 2}` } });
    // Out of service but not stopped: the sleeper is still running there.
    expect(supervisor.status().pid).not.toBe(firstPid);
    expect(alive(firstPid!)).toBe(true);
    expect((await slow).reply).toMatchObject({ outcome: "result", result: { slept: 4_000 } });
    await vi.waitFor(() => expect(alive(firstPid!)).toBe(false), { timeout: 2_000 });
    const status = supervisor.status();
    expect(status.rotations).toBe(2);
    expect(status.restarts).toBe(0);
    expect(status.pid).not.toBe(firstPid);
    // A rotated-out child's isolates start cold on the new one.
    expect(await supervisor.run(spec("hello@2", HELLO), runRequest({ name: "again" }))).toMatchObject({ cold: true });
  });
});
