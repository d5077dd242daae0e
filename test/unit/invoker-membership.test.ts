// Invoker membership's pure rules: who is routed to, in which order an
// action tries the invokers (rendezvous, spilling past full ones), and whose
// queued work is taken over.
import { describe, expect, it } from "vitest";
import {
  ADOPT_AFTER_MS,
  dispatchOrder,
  isLive,
  orphanedInvokers,
  parseAnnouncement,
  SILENT_AFTER_MS,
  type Member,
} from "../../src/core/invoker-membership.js";
import { rendezvousRank } from "../../src/core/rendezvous.js";

const NOW = 1_000_000;
const member = (id: string, over: Partial<Member> = {}): Member => ({
  id,
  url: `http://${id}.invoker:8080`,
  capacity: 4,
  free: 4,
  draining: false,
  at: NOW,
  seenAt: NOW,
  ...over,
});
const ids = ["invoker-0", "invoker-1", "invoker-2"];
const actions = Array.from({ length: 300 }, (_, i) => `guest/action-${i}`);

describe("rendezvousRank", () => {
  it("ranks every name once, the same way whatever order they come in", () => {
    for (const action of actions.slice(0, 10)) {
      const order = rendezvousRank(ids, action);
      expect([...order].sort()).toEqual([...ids].sort());
      expect(rendezvousRank([...ids].reverse(), action)).toEqual(order);
    }
  });

  it("spreads keys over the names", () => {
    const counts = new Map<string, number>();
    for (const action of actions) {
      const first = rendezvousRank(ids, action)[0]!;
      counts.set(first, (counts.get(first) ?? 0) + 1);
    }
    for (const id of ids) expect(counts.get(id)).toBeGreaterThan(60);
  });

  it("moves only the keys of a name that goes, each to its next choice", () => {
    const remaining = ids.filter((id) => id !== "invoker-1");
    for (const action of actions) {
      const before = rendezvousRank(ids, action);
      const after = rendezvousRank(remaining, action)[0];
      expect(after).toBe(before[0] === "invoker-1" ? before[1] : before[0]);
    }
  });
});

describe("membership", () => {
  it("routes to an invoker heard from within SILENT_AFTER_MS and not draining", () => {
    expect(isLive(member("a", { seenAt: NOW - SILENT_AFTER_MS }), NOW)).toBe(true);
    expect(isLive(member("a", { seenAt: NOW - SILENT_AFTER_MS - 1 }), NOW)).toBe(false);
    expect(isLive(member("a", { draining: true }), NOW)).toBe(false);
  });

  it("orders the live invokers by the action's rendezvous rank", () => {
    const members = ids.map((id) => member(id));
    for (const action of actions.slice(0, 20)) {
      expect(dispatchOrder(members, action, NOW).map((m) => m.id)).toEqual(rendezvousRank(ids, action));
    }
  });

  it("skips silent and draining invokers, keeping the others' order", () => {
    const action = actions[0]!;
    const [home, second, third] = rendezvousRank(ids, action);
    const members = [member(home!, { seenAt: NOW - 5_000 }), member(second!, { draining: true }), member(third!)];
    expect(dispatchOrder(members, action, NOW).map((m) => m.id)).toEqual([third]);
    expect(dispatchOrder([member(home!), member(third!)], action, NOW).map((m) => m.id)).toEqual([home, third]);
  });

  it("spills past a full home invoker, and queues at home when all are full", () => {
    const action = actions[1]!;
    const [home, second, third] = rendezvousRank(ids, action);
    const homeFull = [member(home!, { free: 0 }), member(second!), member(third!)];
    expect(dispatchOrder(homeFull, action, NOW).map((m) => m.id)).toEqual([second, third, home]);
    const allFull = ids.map((id) => member(id, { free: 0 }));
    expect(dispatchOrder(allFull, action, NOW)[0]!.id).toBe(home);
  });

  it("adopts the queue of an invoker silent past the grace, or never seen by a watcher that has watched that long", () => {
    const members = [member("gone", { seenAt: NOW - ADOPT_AFTER_MS - 1 }), member("quiet", { seenAt: NOW - ADOPT_AFTER_MS }), member("up")];
    const queued = ["gone", "quiet", "up", "unknown", "gone"];
    expect(orphanedInvokers(queued, members, NOW, NOW - ADOPT_AFTER_MS - 1)).toEqual(["gone", "unknown"]);
    // A watcher that has just started does not know yet whether "unknown" is alive.
    expect(orphanedInvokers(queued, members, NOW, NOW - 1_000)).toEqual(["gone"]);
  });
});

describe("announcements", () => {
  it("reads a well-formed announcement and refuses anything else", () => {
    const good = { id: "invoker-0", url: "http://invoker-0.invoker:8080", capacity: 8, free: 3, draining: false, at: 5 };
    expect(parseAnnouncement({ ...good, extra: 1 })).toEqual(good);
    for (const bad of [null, "x", { ...good, id: "a.b" }, { ...good, id: "" }, { ...good, url: "ftp://x" }, { ...good, free: -1 }, { ...good, capacity: 1.5 }, { ...good, draining: "no" }]) {
      expect(parseAnnouncement(bad), JSON.stringify(bad)).toBeUndefined();
    }
  });
});
