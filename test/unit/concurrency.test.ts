import { describe, expect, it } from "vitest";
import {
  ConcurrencyLimiter,
  decideLease,
  LEASE_TTL_MS,
  PARKED_MS,
  PLACE_PREFIX,
  placesToAsk,
  RENEW_AFTER_MS,
  RETURN_EARLY_MS,
  settleLeases,
  type LeaseAuthority,
  type PlaceReturns,
} from "../../src/core/concurrency.js";
import { MemoryLeaseAuthority } from "../../src/core/lease-book.js";
import { leasePlace, releasePlace } from "../../src/activation/start.js";
import { ref } from "../support/entities.js";
import { invokeRequest } from "../support/platform.js";
import { WhiskError } from "../../src/core/errors.js";
import type { NamespaceLimits } from "../../src/core/throttle.js";

describe("decideLease (the authority's rule)", () => {
  const leases = [
    { activationId: "a", expiresAt: 2_000 },
    { activationId: "b", expiresAt: 1_000 },
    { activationId: "c", expiresAt: 3_000 },
  ];

  it("drops expired leases and counts the others", () => {
    expect(decideLease(leases, "new", 1_000, 5)).toEqual({ expired: ["b"], admitted: true, count: 2 });
    expect(decideLease(leases, "new", 5_000, 1)).toEqual({ expired: ["a", "b", "c"], admitted: true, count: 0 });
  });

  it("refuses once the activations in flight reach the limit, counting as OpenWhisk does (the others only)", () => {
    expect(decideLease(leases, "new", 1_500, 2)).toEqual({ expired: ["b"], admitted: false, count: 2 });
    expect(decideLease(leases, "new", 1_500, 3)).toMatchObject({ admitted: true, count: 2 });
  });

  it("admits an activation that already holds a place again, without counting it twice", () => {
    expect(decideLease(leases, "a", 1_500, 1)).toEqual({ expired: ["b"], admitted: true, count: 1 });
    // Its own lease has expired: it is one more like any other.
    expect(decideLease(leases, "b", 1_500, 2)).toEqual({ expired: ["b"], admitted: false, count: 2 });
  });
});

function limiter(
  authority: LeaseAuthority,
  limits: Record<string, NamespaceLimits>,
  clock: { now: number },
  sleep?: (ms: number) => Promise<void>,
) {
  const reads: string[] = [];
  const gate = new ConcurrencyLimiter({
    authority,
    limitsOf: async (ns) => {
      reads.push(ns);
      return limits[ns] ?? {};
    },
    now: () => clock.now,
    ...(sleep ? { sleep } : {}),
  });
  return { gate, reads };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function refusal(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (err) {
    expect(err).toBeInstanceOf(WhiskError);
    expect((err as WhiskError).status).toBe(429);
    return (err as WhiskError).message;
  }
  throw new Error("not refused");
}

describe("settleLeases (the authority's rule for a round trip)", () => {
  const leases = [
    { activationId: "a", expiresAt: 2_000 },
    { activationId: "place:h1:1", expiresAt: 3_000 },
    { activationId: "place:h1:2", expiresAt: 3_000 },
    { activationId: "old", expiresAt: 1_000 },
  ];

  it("releases first, then admits ids in order while the limit has room, counting places limiters hold apart", () => {
    expect(settleLeases(leases, { release: ["a"], acquire: ["x", "y"], limit: 4 }, 1_500)).toEqual({
      expired: ["old"],
      admitted: ["x", "y"],
      count: 2,
      pooled: 2,
    });
    expect(settleLeases(leases, { release: [], acquire: ["x", "y"], limit: 4 }, 1_500)).toMatchObject({
      admitted: ["x"],
      count: 3,
      pooled: 2,
    });
  });

  it("extends what is held whatever the count, and counts an id asked twice once", () => {
    expect(settleLeases(leases, { release: [], acquire: ["place:h1:1", "n"], limit: 1 }, 1_500)).toMatchObject({
      admitted: ["place:h1:1"],
      count: 2,
    });
    expect(settleLeases(leases, { release: ["a"], acquire: ["n", "n", "m"], limit: 4 }, 1_500).admitted).toEqual(["n", "m"]);
  });
});

describe("ConcurrencyLimiter", () => {
  it("refuses past the namespace's concurrentInvocations with OpenWhisk's message, and admits again once one is released", async () => {
    const clock = { now: 1_000_000 };
    const authority = new MemoryLeaseAuthority(() => clock.now);
    const { gate } = limiter(authority, { ns: { concurrentInvocations: 2 } }, clock);
    await gate.acquire("ns", "a1");
    await gate.acquire("ns", "a2");
    expect(await refusal(gate.acquire("ns", "a3"))).toBe("Too many concurrent requests in flight (count: 2, allowed: 2).");
    // A refused attempt holds nothing.
    expect(authority.size("ns")).toBe(2);
    await gate.release("ns", "a1");
    await gate.acquire("ns", "a3");
    expect(await refusal(gate.acquire("ns", "a4"))).toBe("Too many concurrent requests in flight (count: 2, allowed: 2).");
    // Other namespaces have places of their own (the default, 100).
    for (let i = 0; i < 100; i++) await gate.acquire("other", `o${i}`);
    expect(await refusal(gate.acquire("other", "o100"))).toBe("Too many concurrent requests in flight (count: 100, allowed: 100).");
  });

  it("frees the places of activations nobody released once their lease expires", async () => {
    const clock = { now: 1_000_000 };
    const authority = new MemoryLeaseAuthority(() => clock.now);
    const { gate } = limiter(authority, { ns: { concurrentInvocations: 1 } }, clock);
    await gate.acquire("ns", "crashed", 10_000);
    clock.now += 9_999;
    expect(await refusal(gate.acquire("ns", "next"))).toBe("Too many concurrent requests in flight (count: 1, allowed: 1).");
    clock.now += 1;
    await gate.acquire("ns", "next");
    expect(authority.size("ns")).toBe(1);
    // Without a TTL a lease lasts as long as the longest activation can.
    expect(LEASE_TTL_MS).toBeGreaterThan(300_000);
    await gate.release("ns", "next");
    await gate.acquire("ns", "long");
    clock.now += 300_000;
    expect(await refusal(gate.acquire("ns", "x"))).toContain("count: 1, allowed: 1");
    clock.now += LEASE_TTL_MS - 300_000;
    await gate.acquire("ns", "x");
  });

  it("lets a redelivered activation take its place again, and releasing twice or what was never held does nothing", async () => {
    const clock = { now: 1_000_000 };
    const authority = new MemoryLeaseAuthority(() => clock.now);
    const { gate } = limiter(authority, { ns: { concurrentInvocations: 1 } }, clock);
    await gate.acquire("ns", "a");
    await gate.acquire("ns", "a");
    await gate.release("ns", "a");
    await gate.release("ns", "a");
    await gate.release("ns", "never");
    expect(authority.size("ns")).toBe(0);
    await gate.acquire("ns", "b");
  });

  it("reads a namespace's limits at most every 30 seconds", async () => {
    const clock = { now: 1_000_000 };
    const limits: Record<string, NamespaceLimits> = { ns: { concurrentInvocations: 1 } };
    const { gate, reads } = limiter(new MemoryLeaseAuthority(() => clock.now), limits, clock);
    await gate.acquire("ns", "a");
    limits.ns = { concurrentInvocations: 2 };
    expect(await refusal(gate.acquire("ns", "b"))).toContain("allowed: 1");
    clock.now += 30_000;
    await gate.acquire("ns", "b");
    expect(reads).toEqual(["ns", "ns"]);
  });

  it("hands a held place to the next activation without asking the authority, and gives it back once unused", async () => {
    const clock = { now: 1_000_000 };
    const authority = new MemoryLeaseAuthority(() => clock.now);
    const { gate } = limiter(authority, { ns: { concurrentInvocations: 10 } }, clock);
    await gate.hold("ns", "a1");
    expect(authority.calls).toBe(1);
    for (let i = 2; i <= 20; i++) {
      await gate.release("ns", `a${i - 1}`);
      await gate.hold("ns", `a${i}`);
    }
    expect(authority.calls).toBe(1);
    expect(authority.size("ns")).toBe(1);
    // Held again by the same activation: nothing new.
    await gate.hold("ns", "a20");
    expect(gate.held("ns")).toEqual({ places: 1, inUse: 1 });
    await gate.release("ns", "a20");
    expect(authority.size("ns")).toBe(1);
    await pause(PARKED_MS + 20);
    expect(authority.size("ns")).toBe(0);
    expect(authority.calls).toBe(2);
    // Released again: not this limiter's any more, so the authority is asked (and has nothing to free).
    await gate.release("ns", "a20");
    expect(authority.calls).toBe(3);
    expect(gate.held("ns")).toEqual({ places: 0, inUse: 0 });
  });

  it("refuses a hold past the limit with OpenWhisk's 429 exactly, whichever limiters hold the places", async () => {
    const clock = { now: 1_000_000 };
    const authority = new MemoryLeaseAuthority(() => clock.now);
    const a = limiter(authority, { ns: { concurrentInvocations: 3 } }, clock).gate;
    const b = limiter(authority, { ns: { concurrentInvocations: 3 } }, clock).gate;
    await a.hold("ns", "a1");
    await a.hold("ns", "a2");
    await b.hold("ns", "b1");
    expect(await refusal(b.hold("ns", "b2"))).toBe("Too many concurrent requests in flight (count: 3, allowed: 3).");
    expect(await refusal(a.acquire("ns", "queued"))).toBe("Too many concurrent requests in flight (count: 3, allowed: 3).");
    expect(authority.size("ns")).toBe(3);
    await b.release("ns", "b1");
    await b.hold("ns", "b2");
    expect(await refusal(b.hold("ns", "b3"))).toBe("Too many concurrent requests in flight (count: 3, allowed: 3).");
  });

  it("never refuses under the limit: places parked in another limiter come back to whoever asks", async () => {
    const clock = { now: 1_000_000 };
    const authority = new MemoryLeaseAuthority(() => clock.now);
    const a = limiter(authority, { ns: { concurrentInvocations: 2 } }, clock).gate;
    const b = limiter(authority, { ns: { concurrentInvocations: 2 } }, clock).gate;
    // A caller's invokes one after the other, each through another controller: never refused.
    for (let i = 0; i < 6; i++) {
      const gate = i % 2 ? b : a;
      await gate.hold("ns", `s${i}`);
      await gate.release("ns", `s${i}`);
    }
    // A's two places are parked when B asks for two.
    await a.hold("ns", "a1");
    await a.hold("ns", "a2");
    await a.release("ns", "a1");
    await a.release("ns", "a2");
    await Promise.all([b.hold("ns", "b1"), b.hold("ns", "b2")]);
    expect(b.held("ns")).toEqual({ places: 2, inUse: 2 });
    // An acquire (a queued activation) is handed a parked place of its own limiter, with no round trip.
    await b.release("ns", "b1");
    const calls = authority.calls;
    const lease = await b.acquire("ns", "queued");
    expect(authority.calls).toBe(calls);
    expect(b.held("ns")).toEqual({ places: 1, inUse: 1 });
    expect(authority.ids("ns")).toHaveLength(2);
    expect(authority.ids("ns")).toContain(lease);
  });

  it("frees the places of a limiter that crashed once their leases expire", async () => {
    const clock = { now: 1_000_000 };
    const authority = new MemoryLeaseAuthority(() => clock.now);
    const instant = async () => {};
    const crashed = limiter(authority, { ns: { concurrentInvocations: 1 } }, clock, instant).gate;
    const other = limiter(authority, { ns: { concurrentInvocations: 1 } }, clock, instant).gate;
    await crashed.hold("ns", "running");
    expect(await refusal(other.hold("ns", "next"))).toBe("Too many concurrent requests in flight (count: 1, allowed: 1).");
    clock.now += LEASE_TTL_MS - 1;
    expect(await refusal(other.acquire("ns", "next"))).toContain("count: 1");
    clock.now += 1;
    await other.hold("ns", "next");
    expect(authority.size("ns")).toBe(1);
  });

  it("hands out only places with over five minutes left, giving older ones back in the round trip that takes new ones", async () => {
    const clock = { now: 1_000_000 };
    const authority = new MemoryLeaseAuthority(() => clock.now);
    const { gate } = limiter(authority, { ns: { concurrentInvocations: 1 } }, clock, () => new Promise(() => {}));
    await gate.hold("ns", "a");
    await gate.release("ns", "a");
    const [first] = authority.ids("ns");
    clock.now += RENEW_AFTER_MS - 1;
    await gate.hold("ns", "b");
    expect(authority.calls).toBe(1);
    await gate.release("ns", "b");
    clock.now += 2;
    await gate.hold("ns", "c");
    expect(authority.calls).toBe(2);
    expect(authority.ids("ns")).toHaveLength(1);
    expect(authority.ids("ns")).not.toContain(first);
    // A place held past its lease is the authority's again: releasing it later frees nothing else.
    clock.now += LEASE_TTL_MS;
    await gate.release("ns", "c");
    expect(gate.held("ns")).toEqual({ places: 0, inUse: 0 });
  });

  it("hands queued activations places it asked for several at a time, each released where the activation ends, by its lease", async () => {
    const clock = { now: 1_000_000 };
    const authority = new MemoryLeaseAuthority(() => clock.now);
    const controller = limiter(authority, {}, clock).gate;
    const invoker = limiter(authority, {}, clock).gate;
    const leases: string[] = [];
    for (let i = 0; i < 20; i++) leases.push((await controller.acquire("ns", `q${i}`))!);
    // Asks of 1, 2, 4 and then 5 places (a twentieth of the default 100), not one per activation.
    expect(authority.calls).toBe(6);
    expect(new Set(leases).size).toBe(20);
    for (const lease of leases) expect(lease.startsWith(PLACE_PREFIX)).toBe(true);
    // Handed over: in flight at the authority, none of them the controller's any more.
    expect(controller.held("ns").inUse).toBe(0);
    for (const lease of leases) expect(authority.ids("ns")).toContain(lease);
    // Asked again for the same activation (a redelivery): the same place.
    expect(await controller.acquire("ns", "q3")).toBe(leases[3]);

    // Ended by another process, by lease; a second release of one ends nothing more.
    await invoker.release("ns", leases[0]!);
    await invoker.release("ns", leases[0]!);
    expect(authority.ids("ns")).not.toContain(leases[0]);
    expect(authority.size("ns")).toBe(19 + controller.held("ns").places);
    // Ended where it was handed over, by the activation's id: released at the authority, not parked for reuse.
    await controller.release("ns", "q1");
    expect(authority.ids("ns")).not.toContain(leases[1]);
    expect(controller.held("ns").places).toBe(authority.size("ns") - 18);
  });

  it("sends releases of acquired activations that meet in flight in one round trip", async () => {
    const clock = { now: 1_000_000 };
    const memory = new MemoryLeaseAuthority(() => clock.now);
    const released: string[][] = [];
    const authority: LeaseAuthority = {
      settle: async (ns, change) => {
        if (change.release.length) released.push([...change.release]);
        await pause(5);
        return memory.settle(ns, change);
      },
    };
    const { gate } = limiter(authority, { ns: { concurrentInvocations: 5 } }, clock);
    const leases: string[] = [];
    for (const id of ["a", "b", "c", "d"]) leases.push((await gate.acquire("ns", id))!);
    // Released where they end, another process as far as the authority knows: by their leases' names.
    await Promise.all(leases.map((lease) => gate.release("ns", lease)));
    expect(released).toEqual([[leases[0]], leases.slice(1)]);
    expect(memory.size("ns")).toBe(0);
  });
});

describe("placesToAsk", () => {
  it("asks for one place, doubling while asks follow each other within PARKED_MS, at most a twentieth of the limit", () => {
    expect(placesToAsk(1_000, undefined, 0)).toBe(1);
    expect(placesToAsk(1_000, { at: 0, size: 4 }, PARKED_MS - 1)).toBe(8);
    expect(placesToAsk(1_000, { at: 0, size: 4 }, PARKED_MS)).toBe(1);
    expect(placesToAsk(1_000, { at: 0, size: 32 }, 1)).toBe(50);
    expect(placesToAsk(30, { at: 0, size: 4 }, 1)).toBe(1);
    expect(placesToAsk(100_000_000, { at: 0, size: 800 }, 1)).toBe(1_000);
  });
});

/** Limiters that hear of each other's returns, as the processes of one installation do (NATS on the Node host). */
function lenders(authority: LeaseAuthority, limit: number, clock: { now: number }, count: number) {
  const sent: string[][] = [];
  const gates: ConcurrencyLimiter[] = [];
  const returns: PlaceReturns = {
    send: async (namespace, ids) => {
      sent.push([...ids]);
      for (const gate of gates) gate.returned(namespace, ids);
    },
  };
  for (let i = 0; i < count; i++) {
    gates.push(new ConcurrencyLimiter({ authority, limitsOf: async () => ({ concurrentInvocations: limit }), now: () => clock.now, returns }));
  }
  return { gates, sent };
}

describe("ConcurrencyLimiter lending places to queued activations", () => {
  it("lends its own places, and takes each back when the activation's end is heard of in another process", async () => {
    const clock = { now: 1_000_000 };
    const authority = new MemoryLeaseAuthority(() => clock.now);
    const { gates: [controller, invoker], sent } = lenders(authority, 10, clock, 2);
    await controller!.acquire("ns", "q1");
    expect(authority.calls).toBe(1);
    expect(authority.ids("ns")).toEqual([expect.stringMatching(/^place:/)]);
    // The invoker that ran it holds no place of it: the release goes to every limiter, the lender takes it back.
    await invoker!.release("ns", "q1");
    expect(sent).toEqual([["q1"]]);
    expect(controller!.held("ns")).toEqual({ places: 1, inUse: 0 });
    for (let i = 2; i <= 20; i++) {
      await controller!.acquire("ns", `q${i}`);
      await invoker!.release("ns", `q${i}`);
    }
    expect(authority.calls).toBe(1);
    // Released again, or never lent: nobody holds it, nothing changes.
    await invoker!.release("ns", "q20");
    await controller!.release("ns", "never");
    expect(controller!.held("ns")).toEqual({ places: 1, inUse: 0 });
    await pause(PARKED_MS + 20);
    expect(authority.size("ns")).toBe(0);
  });

  it("keeps the namespace's limit across lenders, refusing with OpenWhisk's 429, and admits again once a place comes back", async () => {
    const clock = { now: 1_000_000 };
    const authority = new MemoryLeaseAuthority(() => clock.now);
    const { gates: [a, b, invoker] } = lenders(authority, 3, clock, 3);
    await a!.acquire("ns", "a1");
    await a!.acquire("ns", "a2");
    await b!.acquire("ns", "b1");
    expect(await refusal(b!.acquire("ns", "b2"))).toBe("Too many concurrent requests in flight (count: 3, allowed: 3).");
    expect(await refusal(a!.hold("ns", "blocking"))).toBe("Too many concurrent requests in flight (count: 3, allowed: 3).");
    expect(authority.size("ns")).toBe(3);
    // a1 ends at an invoker: its place goes back to A, parked, and from there to the authority, where B finds it.
    await invoker!.release("ns", "a1");
    await b!.acquire("ns", "b2");
    expect(b!.held("ns")).toEqual({ places: 2, inUse: 2 });
    expect(authority.size("ns")).toBe(3);
  });

  it("frees a lent place whose end is never heard of once its lease expires", async () => {
    const clock = { now: 1_000_000 };
    const authority = new MemoryLeaseAuthority(() => clock.now);
    const instant = async () => {};
    const lender = lenders(authority, 1, clock, 1).gates[0]!;
    const other = limiter(authority, { ns: { concurrentInvocations: 1 } }, clock, instant).gate;
    await lender.acquire("ns", "lost");
    expect(await refusal(other.hold("ns", "next"))).toBe("Too many concurrent requests in flight (count: 1, allowed: 1).");
    clock.now += LEASE_TTL_MS;
    await other.hold("ns", "next");
    expect(authority.size("ns")).toBe(1);
  });

  it("has misses that meet wait for one ask, asking for places in doubling blocks while the load rises, and gives back spares unused", async () => {
    const clock = { now: 1_000_000 };
    const memory = new MemoryLeaseAuthority(() => clock.now);
    const asked: number[] = [];
    const authority: LeaseAuthority = {
      settle: async (ns, change) => {
        if (change.acquire.length) asked.push(change.acquire.length);
        await pause(2);
        return memory.settle(ns, change);
      },
    };
    const { gate } = limiter(authority, { ns: { concurrentInvocations: 1_000 } }, clock);
    await Promise.all(Array.from({ length: 20 }, (_, i) => gate.hold("ns", `h${i}`)));
    expect(asked).toEqual([1, 2, 4, 8, 16]);
    expect(gate.held("ns")).toEqual({ places: 31, inUse: 20 });
    expect(memory.size("ns")).toBe(31);
    await pause(PARKED_MS + 20);
    expect(memory.size("ns")).toBe(20);
    // Asked again later, one at a time.
    clock.now += PARKED_MS;
    await gate.hold("ns", "later");
    expect(asked.at(-1)).toBe(1);
  });
});

describe("ConcurrencyLimiter leaving", () => {
  it("gives back its parked places and hands those in use to another limiter, which takes them back when they end", async () => {
    const clock = { now: 1_000_000 };
    const authority = new MemoryLeaseAuthority(() => clock.now);
    const { gates: [leaving, staying, invoker] } = lenders(authority, 3, clock, 3);
    await leaving!.acquire("ns", "q1");
    await leaving!.hold("ns", "done");
    await leaving!.release("ns", "done");
    const inUse = await leaving!.leave();
    expect(inUse).toEqual([{ namespace: "ns", id: expect.stringMatching(/^place:/), expiresAt: expect.any(Number), activationId: "q1" }]);
    expect(authority.ids("ns")).toEqual([inUse[0]!.id]);
    expect(leaving!.held("ns")).toEqual({ places: 0, inUse: 0 });
    staying!.adopt(inUse);
    expect(staying!.held("ns")).toEqual({ places: 1, inUse: 1 });
    await invoker!.release("ns", "q1");
    expect(staying!.held("ns")).toEqual({ places: 1, inUse: 0 });
    // Adopted places are leases like its own: handed to its next activation, given back once unused.
    await staying!.acquire("ns", "q2");
    expect(authority.ids("ns")).toEqual([inUse[0]!.id]);
  });
});

describe("ConcurrencyLimiter giving back parked places", () => {
  it("gives back places parked one after another in one round trip, none of them later than PARKED_MS nor sooner than RETURN_EARLY_MS before", async () => {
    const clock = { now: 1_000_000 };
    const memory = new MemoryLeaseAuthority(() => clock.now);
    const released: string[][] = [];
    const authority: LeaseAuthority = {
      settle: async (ns, change) => {
        if (change.release.length) released.push([...change.release]);
        return memory.settle(ns, change);
      },
    };
    // A limit of 20 takes one place per ask: no spares.
    const { gate } = limiter(authority, { ns: { concurrentInvocations: 20 } }, clock);
    for (let i = 0; i < 6; i++) await gate.hold("ns", `h${i}`);
    const start = clock.now;
    // Five end within RETURN_EARLY_MS of the first; the sixth just after.
    for (const [i, at] of [0, 20, 40, 50, RETURN_EARLY_MS].entries()) {
      clock.now = start + at;
      await gate.release("ns", `h${i}`);
    }
    clock.now = start + RETURN_EARLY_MS + 1;
    await gate.release("ns", "h5");
    await pause(PARKED_MS + 20);
    expect(released.map((ids) => ids.length)).toEqual([5, 1]);
    expect(memory.size("ns")).toBe(0);
  });
});

describe("leasePlace and releasePlace (a queued activation's place, from accept to end)", () => {
  it("carries the handed-over place's lease in the request, so a gate in another process releases it", async () => {
    const clock = { now: 1_000_000 };
    const authority = new MemoryLeaseAuthority(() => clock.now);
    const controller = limiter(authority, {}, clock).gate;
    const invoker = limiter(authority, {}, clock).gate;
    const request = invokeRequest(ref("ns/a"));
    const leased = await leasePlace(controller, request);
    expect(leased).toMatchObject({ leased: true, lease: expect.stringMatching(new RegExp(`^${PLACE_PREFIX}`)) });
    expect(authority.ids("ns")).toContain(leased.lease);
    await releasePlace(invoker, leased);
    expect(authority.ids("ns")).not.toContain(leased.lease);
  });
});
