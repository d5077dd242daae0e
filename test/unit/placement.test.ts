// The workerd pool's pure decisions: where an isolate key runs, whom a
// child over its memory budget is blamed on, and when a child is rotated out.
import { describe, expect, it } from "vitest";
import { baselineAfterColdRun, memoryVerdict, place, placementKey, rendezvousOrder, ROTATE_AT_SHARE_OF_CAP, shouldRotate } from "../../src/node/workerd/placement.js";

const key = (ns: string, action: string, version = "0.0.1", slot?: number) =>
  `${ns}>${ns}/${action}@${version}#abc123|main${slot === undefined ? "" : `/${slot}`}`;

describe("placement", () => {
  it("hashes namespace, action and slot, not version, digest or main", () => {
    expect(placementKey(key("alice", "pkg/echo", "0.0.1"))).toBe("alice>alice/pkg/echo");
    expect(placementKey(key("alice", "pkg/echo", "0.0.2"))).toBe("alice>alice/pkg/echo");
    expect(placementKey(key("alice", "echo", "0.0.1", 3))).toBe("alice>alice/echo/3");
    expect(placementKey("a@b>a@b/x@y@0.0.1#d|main|hash/0")).toBe("a@b>a@b/x@y/0");
    // Something it does not recognise is hashed whole.
    expect(placementKey("odd key")).toBe("odd key");
  });

  it("ranks every position once, stably, and spreads keys over the pool", () => {
    const order = rendezvousOrder("alice>alice/echo", 4);
    expect([...order].sort()).toEqual([0, 1, 2, 3]);
    expect(rendezvousOrder("alice>alice/echo", 4)).toEqual(order);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4_000; i++) counts[place(key("alice", `a${i}`), 4, () => true)]!++;
    for (const count of counts) expect(count).toBeGreaterThan(800);
  });

  it("moves only the keys of a removed position when the pool shrinks", () => {
    let moved = 0;
    for (let i = 0; i < 1_000; i++) {
      const k = `ns>ns/a${i}`;
      const before = rendezvousOrder(k, 4).filter((p) => p !== 3)[0];
      const after = rendezvousOrder(k, 3)[0];
      if (before !== after) moved++;
    }
    expect(moved).toBe(0);
  });

  it("spills to the next position in the key's order when the first is unusable, and to the first when none is", () => {
    const k = key("alice", "echo");
    const order = rendezvousOrder(placementKey(k), 3);
    expect(place(k, 3, (p) => p !== order[0])).toBe(order[1]);
    expect(place(k, 3, (p) => p === order[2])).toBe(order[2]);
    expect(place(k, 3, () => false)).toBe(order[0]);
  });
});

describe("memory verdict", () => {
  const flight = (id: number, memoryMb: number, rssAtStartMb: number, startedAt = id) => ({ id, memoryMb, rssAtStartMb, startedAt });

  it("keeps a child whose growth stays within the limits in flight", () => {
    expect(memoryVerdict({ rssMb: 300, baselineMb: 60, capMb: 1024, flights: [flight(1, 256, 60)] })).toEqual({ over: false });
    expect(
      memoryVerdict({ rssMb: 500, baselineMb: 60, capMb: 1024, flights: [flight(1, 256, 60), flight(2, 256, 60)] }),
    ).toEqual({ over: false });
  });

  it("blames an activation running alone once it passes its own limit", () => {
    expect(memoryVerdict({ rssMb: 200, baselineMb: 60, capMb: 1024, flights: [flight(1, 128, 60)] })).toEqual({
      over: true,
      budgetMb: 188,
      culprit: 1,
    });
  });

  it("clears an activation that began after the growth, whatever its limit", () => {
    const verdict = memoryVerdict({
      rssMb: 520,
      baselineMb: 60,
      capMb: 1024,
      flights: [flight(1, 128, 60), flight(2, 128, 300)],
    });
    expect(verdict).toMatchObject({ over: true, culprit: 1 });
  });

  it("blames the last to begin among those there before the growth, not a long-running neighbour", () => {
    // The neighbour's own cold start grew the child a little: still "before".
    const flights = [flight(1, 512, 60, 1_000), flight(2, 128, 70, 2_000)];
    expect(memoryVerdict({ rssMb: 800, baselineMb: 60, capMb: 1024, flights })).toMatchObject({ over: true, culprit: 2 });
    const bigNeighbour = [flight(1, 128, 60, 1_000), flight(2, 512, 60, 2_000)];
    expect(memoryVerdict({ rssMb: 800, baselineMb: 60, capMb: 1024, flights: bigNeighbour })).toMatchObject({ culprit: 2 });
  });

  it("enforces the hard cap, also with nothing in flight", () => {
    expect(memoryVerdict({ rssMb: 700, baselineMb: 60, capMb: 512, flights: [flight(1, 256, 60), flight(2, 256, 60)] })).toMatchObject({
      over: true,
      budgetMb: 512,
    });
    expect(memoryVerdict({ rssMb: 600, baselineMb: 600, capMb: 512, flights: [] })).toEqual({ over: true, budgetMb: 512 });
  });
});

describe("retained memory", () => {
  it("counts what a cold start left resident into the baseline, at most the activation's limit and never less", () => {
    expect(baselineAfterColdRun(100, 120, 131, 256)).toBe(111);
    expect(baselineAfterColdRun(100, 120, 900, 256)).toBe(356);
    expect(baselineAfterColdRun(100, 120, 90, 256)).toBe(100);
  });

  it("rotates a child once its idle memory passes half its cap or it has loaded its share of isolates", () => {
    const child = { baselineMb: 500, capMb: 1024, loadedIsolates: 10, maxIsolates: 512 };
    expect(shouldRotate(child)).toBe(false);
    expect(shouldRotate({ ...child, baselineMb: 1024 * ROTATE_AT_SHARE_OF_CAP + 1 })).toBe(true);
    expect(shouldRotate({ ...child, loadedIsolates: 511 })).toBe(false);
    expect(shouldRotate({ ...child, loadedIsolates: 512 })).toBe(true);
  });
});
