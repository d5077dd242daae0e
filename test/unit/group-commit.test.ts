// Writes gathered while one is in flight (src/core/group-commit.ts).
import { describe, expect, it, vi } from "vitest";
import { GroupCommit, STALL_MS } from "../../src/core/group-commit.js";

/** A store whose writes end when the test says so. */
function controlledStore() {
  const writes: { items: number[]; by: string; end: (err?: Error) => void }[] = [];
  const commitAs = (by: string) => (items: number[]) =>
    new Promise<void>((resolve, reject) => writes.push({ items, by, end: (err) => (err ? reject(err) : resolve()) }));
  return { writes, commitAs };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe("GroupCommit", () => {
  it("writes a lone item at once", async () => {
    const { writes, commitAs } = controlledStore();
    const commits = new GroupCommit<number>(10);
    const done = commits.add([1], commitAs("a"));
    expect(writes.map((w) => w.items)).toEqual([[1]]);
    writes[0]!.end();
    await done;
  });

  it("gathers what arrives during a write into the next one, started by one of its own callers", async () => {
    const { writes, commitAs } = controlledStore();
    const commits = new GroupCommit<number>(10);
    const ended: number[] = [];
    const first = commits.add([1], commitAs("a")).then(() => ended.push(1));
    const later = [2, 3, 4].map((n) => commits.add([n], commitAs(`caller ${n}`)).then(() => ended.push(n)));
    await tick();
    expect(writes.map((w) => w.items)).toEqual([[1]]);
    writes[0]!.end();
    await first;
    await vi.waitFor(() => expect(writes).toHaveLength(2));
    expect(writes.map((w) => w.items)).toEqual([[1], [2, 3, 4]]);
    expect(["caller 2", "caller 3", "caller 4"]).toContain(writes[1]!.by);
    expect(ended).toEqual([1]);
    writes[1]!.end();
    await Promise.all(later);
    // The others learn of the write's end each on its own timer, in no set order.
    expect(ended[0]).toBe(1);
    expect([...ended].sort()).toEqual([1, 2, 3, 4]);
  });

  it("with awaitWrites, callers wake when the write carrying their items ends, not on timers", async () => {
    const { writes, commitAs } = controlledStore();
    const sleep = vi.fn(() => new Promise<void>(() => undefined));
    const commits = new GroupCommit<number>(10, { awaitWrites: true, sleep });
    const ended: number[] = [];
    const first = commits.add([1], commitAs("a")).then(() => ended.push(1));
    const later = [2, 3].map((n) => commits.add([n], commitAs(`caller ${n}`)).then(() => ended.push(n)));
    await tick();
    writes[0]!.end();
    await vi.waitFor(() => expect(writes).toHaveLength(2));
    expect(writes[1]!.items).toEqual([2, 3]);
    writes[1]!.end();
    await Promise.all([first, ...later]);
    expect([...ended].sort()).toEqual([1, 2, 3]);
    // Nobody waited on a timer that never fires (this sleep): each woke when a write ended.
    expect(sleep).not.toHaveBeenCalled();
  });

  it("with gatherMs, waits that long for more callers before a write, then takes them all", async () => {
    const { writes, commitAs } = controlledStore();
    const commits = new GroupCommit<number>(10, { gatherMs: 30 });
    const first = commits.add([1], commitAs("a"));
    await tick();
    expect(writes).toHaveLength(0);
    const second = commits.add([2], commitAs("b"));
    await vi.waitFor(() => expect(writes).toHaveLength(1));
    expect(writes[0]).toMatchObject({ by: "a", items: [1, 2] });
    writes[0]!.end();
    await Promise.all([first, second]);
  });

  it("with gatherMs, a caller waiting on the gathering write looks again when the gather ends, then every POLL_MS", async () => {
    const { writes, commitAs } = controlledStore();
    let now = 1_000;
    const asked: number[] = [];
    const sleeps: (() => void)[] = [];
    const sleep = (ms: number) => {
      asked.push(ms);
      return new Promise<void>((resolve) => sleeps.push(resolve));
    };
    const commits = new GroupCommit<number>(10, { gatherMs: 20, now: () => now, sleep });
    const first = commits.add([1], commitAs("a"));
    now = 1_005;
    const second = commits.add([2], commitAs("b"));
    await tick();
    // The writer gathers for 20 ms; the other caller looks away for the 15 ms the gather has left.
    expect(asked).toEqual([20, 15]);
    now = 1_020;
    sleeps.shift()!();
    await vi.waitFor(() => expect(writes).toHaveLength(1));
    expect(writes[0]!.items).toEqual([1, 2]);
    sleeps.shift()!();
    await tick();
    // Its items are in the write now: it looks every POLL_MS (2 ms) until the write ends.
    expect(asked).toEqual([20, 15, 2]);
    writes[0]!.end();
    sleeps.shift()!();
    await Promise.all([first, second]);
  });

  it("keeps a write under maxItems, never splitting one caller's items", async () => {
    const { writes, commitAs } = controlledStore();
    const commits = new GroupCommit<number>(3);
    const all = [commits.add([0], commitAs("a")), commits.add([1, 2], commitAs("b")), commits.add([3, 4], commitAs("c")), commits.add([5, 6, 7, 8], commitAs("d"))];
    for (let at = 0; at < 4; at++) {
      await vi.waitFor(() => expect(writes).toHaveLength(at + 1));
      writes[at]!.end();
    }
    await Promise.all(all);
    expect(writes.map((w) => w.items)).toEqual([[0], [1, 2], [3, 4], [5, 6, 7, 8]]);
  });

  it("tries each caller's items of a failed shared write again alone, so one's failure is not another's", async () => {
    const { writes, commitAs } = controlledStore();
    const commits = new GroupCommit<number>(10);
    const first = commits.add([1], commitAs("a"));
    const second = commits.add([2], commitAs("b"));
    const third = commits.add([3], commitAs("c"));
    writes[0]!.end();
    await first;
    await vi.waitFor(() => expect(writes).toHaveLength(2));
    writes[1]!.end(new Error("item 2 is bad"));
    await vi.waitFor(() => expect(writes).toHaveLength(4));
    expect(writes.slice(2).map((w) => [w.by, w.items])).toEqual([
      ["b", [2]],
      ["c", [3]],
    ]);
    writes[2]!.end(new Error("item 2 is bad"));
    writes[3]!.end();
    await expect(second).rejects.toThrow("item 2 is bad");
    await expect(third).resolves.toBeUndefined();
  });

  it("fails a caller whose write carried only its items, without trying again, and goes on", async () => {
    const { writes, commitAs } = controlledStore();
    const commits = new GroupCommit<number>(10);
    const first = commits.add([1, 2], commitAs("a"));
    writes[0]!.end(new Error("store down"));
    await expect(first).rejects.toThrow("store down");
    await settle();
    expect(writes).toHaveLength(1);
    const next = commits.add([3], commitAs("b"));
    expect(writes.map((w) => w.items)).toEqual([[1, 2], [3]]);
    writes[1]!.end();
    await next;
  });

  it("meets a commit that throws at once as a failed write", async () => {
    const commits = new GroupCommit<number>(10);
    await expect(
      commits.add([1], () => {
        throw new Error("no store");
      }),
    ).rejects.toThrow("no store");
    await expect(commits.add([2], async () => undefined)).resolves.toBeUndefined();
  });

  it("writes again the items of a write that never ended (its caller cancelled)", async () => {
    const { writes, commitAs } = controlledStore();
    let clock = 0;
    const commits = new GroupCommit<number>(10, { now: () => clock, sleep: () => new Promise((resolve) => setTimeout(resolve, 1)) });
    void commits.add([1], commitAs("gone"));
    const waiting = commits.add([2], commitAs("b"));
    const alsoWaiting = commits.add([3], commitAs("c"));
    await settle();
    expect(writes).toHaveLength(1);
    clock += STALL_MS + 1;
    await vi.waitFor(() => expect(writes).toHaveLength(2));
    // A new write for those the lost one had not taken; it is not lost.
    expect(writes[1]!.items).toEqual([2, 3]);
    // That one stalls too: the other caller whose item it carries writes its own (its writer waits on its own write).
    const writer = writes[1]!.by;
    const [other, otherItem] = writer === "b" ? ["c", 3] : ["b", 2];
    clock += STALL_MS + 1;
    await vi.waitFor(() => expect(writes).toHaveLength(3));
    expect([writes[2]!.by, writes[2]!.items]).toEqual([other, [otherItem]]);
    writes[2]!.end();
    await (other === "b" ? waiting : alsoWaiting);
    writes[1]!.end();
    await Promise.all([waiting, alsoWaiting]);
  });
});
