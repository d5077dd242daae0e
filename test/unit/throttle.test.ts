import { describe, expect, it } from "vitest";
import { WhiskError } from "../../src/core/errors.js";
import {
  batchSize,
  effectiveLimits,
  RateGate,
  takeTokens,
  type GrantAuthority,
  type MinuteCount,
  type NamespaceLimits,
} from "../../src/core/throttle.js";

/** An authority kept in a Map, applying takeTokens as the Durable Object and PostgreSQL authorities do. */
function mapAuthority() {
  const counts = new Map<string, MinuteCount>();
  const calls: number[] = [];
  const authority: GrantAuthority = async (namespace, kind, minute, wanted, limit) => {
    calls.push(wanted);
    const key = `${namespace}/${kind}/${minute}`;
    const { count, grant } = takeTokens(counts.get(key) ?? { issued: 0, denied: 0 }, wanted, limit);
    counts.set(key, count);
    return grant;
  };
  return { authority, calls };
}

function gate(authority: GrantAuthority, limits: Record<string, NamespaceLimits>, clock: { now: number }) {
  return new RateGate({ authority, limitsOf: async (ns) => limits[ns] ?? {}, now: () => clock.now });
}

async function attempts(g: RateGate, namespace: string, kind: "invoke" | "fire", n: number) {
  const outcomes: (true | string)[] = [];
  for (let i = 0; i < n; i++) {
    try {
      await g.admit(namespace, kind);
      outcomes.push(true);
    } catch (err) {
      expect(err).toBeInstanceOf(WhiskError);
      expect((err as WhiskError).status).toBe(429);
      outcomes.push((err as WhiskError).message);
    }
  }
  return outcomes;
}

describe("takeTokens", () => {
  it("hands out what is left of the limit and counts every attempt", () => {
    let step = takeTokens({ issued: 0, denied: 0 }, 6, 10);
    expect(step.grant).toEqual({ granted: 6, count: 6 });
    step = takeTokens(step.count, 6, 10);
    expect(step.grant).toEqual({ granted: 4, count: 10 });
    step = takeTokens(step.count, 6, 10);
    expect(step.grant).toEqual({ granted: 0, count: 11 });
    step = takeTokens(step.count, 6, 10);
    expect(step.grant).toEqual({ granted: 0, count: 12 });
  });

  it("denies everything under a limit of 0", () => {
    expect(takeTokens({ issued: 0, denied: 0 }, 1, 0).grant).toEqual({ granted: 0, count: 1 });
  });
});

describe("RateGate", () => {
  const clock = { now: Date.UTC(2026, 10, 25, 10, 0, 5) };

  it("admits the default 120 invokes a minute, then answers OpenWhisk's 429 with the attempt's count", async () => {
    const { authority, calls } = mapAuthority();
    const outcomes = await attempts(gate(authority, {}, clock), "guest", "invoke", 122);
    expect(outcomes.slice(0, 120).every((o) => o === true)).toBe(true);
    expect(outcomes.slice(120)).toEqual([
      "Too many requests in the last minute (count: 121, allowed: 120).",
      "Too many requests in the last minute (count: 122, allowed: 120).",
    ]);
    // Tokens come in batches: 120 / 6 asks plus one per refused attempt.
    expect(calls.length).toBe(120 / batchSize(120) + 2);
  });

  it("never admits more than the limit across controllers sharing one authority", async () => {
    const { authority } = mapAuthority();
    const limits = { guest: { invocationsPerMinute: 50 } };
    const [a, b] = [gate(authority, limits, clock), gate(authority, limits, clock)];
    const outcomes = [...(await attempts(a, "guest", "invoke", 30)), ...(await attempts(b, "guest", "invoke", 30)), ...(await attempts(a, "guest", "invoke", 30))];
    expect(outcomes.filter((o) => o === true).length).toBeLessThanOrEqual(50);
    expect(outcomes.filter((o) => o === true).length).toBeGreaterThanOrEqual(50 - 2 * batchSize(50));
  });

  it("lets a refused request use what concurrent requests brought back, even when their answers arrive later", async () => {
    const { authority } = mapAuthority();
    // Answers arrive in reverse order: the refusals first, the grants last.
    let pending = 30;
    const late: GrantAuthority = async (...args) => {
      const delay = pending--;
      const grant = await authority(...args);
      await new Promise((resolve) => setTimeout(resolve, delay));
      return grant;
    };
    const g = gate(late, { guest: { invocationsPerMinute: 40 } }, clock);
    const outcomes = await Promise.all(Array.from({ length: 30 }, () => g.admit("guest", "invoke").then(() => "ok", (err: Error) => err.message)));
    expect(outcomes.filter((o) => o === "ok")).toHaveLength(30);
  });

  it("starts over when the minute turns", async () => {
    const { authority } = mapAuthority();
    const local = { now: clock.now };
    const g = gate(authority, { guest: { firesPerMinute: 2 } }, local);
    expect(await attempts(g, "guest", "fire", 3)).toEqual([true, true, "Too many requests in the last minute (count: 3, allowed: 2)."]);
    local.now += 60_000;
    expect(await attempts(g, "guest", "fire", 2)).toEqual([true, true]);
  });

  it("counts invokes and fires, and each namespace, apart", async () => {
    const { authority } = mapAuthority();
    const g = gate(authority, { a: { invocationsPerMinute: 1, firesPerMinute: 1 } }, clock);
    expect(await attempts(g, "a", "invoke", 2)).toEqual([true, "Too many requests in the last minute (count: 2, allowed: 1)."]);
    expect(await attempts(g, "a", "fire", 1)).toEqual([true]);
    expect((await attempts(g, "b", "invoke", 3)).every((o) => o === true)).toBe(true);
  });

  it("reports the effective limits with a namespace's own values over the defaults", () => {
    expect(effectiveLimits({})).toMatchObject({ invocationsPerMinute: 120, concurrentInvocations: 100, firesPerMinute: 60, maxParameterSize: "1 MB" });
    expect(effectiveLimits({ invocationsPerMinute: 5, concurrentInvocations: 7 })).toMatchObject({
      invocationsPerMinute: 5,
      concurrentInvocations: 7,
      firesPerMinute: 60,
      maxActionInstances: 7,
    });
  });
});
