import { describe, expect, it } from "vitest";
import { RateGate, takeTokens, type GrantAuthority, type MinuteCount } from "../../src/core/throttle.js";

describe("RateGate batch option", () => {
  it("a gate asking for one token at a time leaves the rest of the minute to the namespace's other gates", async () => {
    const counts = new Map<string, MinuteCount>();
    const asked: number[] = [];
    const authority: GrantAuthority = async (namespace, kind, minute, wanted, limit) => {
      asked.push(wanted);
      const key = `${namespace}/${kind}/${minute}`;
      const { count, grant } = takeTokens(counts.get(key) ?? { issued: 0, denied: 0 }, wanted, limit);
      counts.set(key, count);
      return grant;
    };
    const limitsOf = async () => ({ invocationsPerMinute: 120 });
    const now = () => 1_700_000_000_000;
    // Twenty invoker gates, one web request each: twenty tokens spent, a hundred left for the controller.
    for (let i = 0; i < 20; i++) await new RateGate({ authority, limitsOf, now, batch: () => 1 }).admit("ns", "invoke");
    expect(asked).toEqual(Array(20).fill(1));
    const controller = new RateGate({ authority, limitsOf, now });
    for (let i = 0; i < 100; i++) await controller.admit("ns", "invoke");
    await expect(controller.admit("ns", "invoke")).rejects.toMatchObject({ status: 429 });
  });
});
