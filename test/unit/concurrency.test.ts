import { describe, expect, it } from "vitest";
import {
  ConcurrencyLimiter,
  decideLease,
  LEASE_TTL_MS,
  MemoryLeaseAuthority,
  type LeaseAuthority,
} from "../../src/core/concurrency.js";
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

function limiter(authority: LeaseAuthority, limits: Record<string, NamespaceLimits>, clock: { now: number }) {
  const reads: string[] = [];
  const gate = new ConcurrencyLimiter({
    authority,
    limitsOf: async (ns) => {
      reads.push(ns);
      return limits[ns] ?? {};
    },
    now: () => clock.now,
  });
  return { gate, reads };
}

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
});
