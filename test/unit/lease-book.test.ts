// LeaseBook (src/core/lease-book.ts) against the rule it must agree with,
// settleLeases over the whole list of leases, on random sequences of changes.
import { describe, expect, it } from "vitest";
import { PLACE_PREFIX, settleLeases, type LeaseChange } from "../../src/core/concurrency.js";
import { LeaseBook } from "../../src/core/lease-book.js";

/** A small seeded generator (mulberry32), so a failing sequence repeats. */
function random(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The reference: settleLeases over a plain map, applied as the authorities applied it. */
function referenceSettle(leases: Map<string, number>, change: LeaseChange, now: number) {
  const decision = settleLeases(
    [...leases].map(([activationId, expiresAt]) => ({ activationId, expiresAt })),
    change,
    now,
  );
  for (const id of [...decision.expired, ...change.release]) leases.delete(id);
  for (const id of decision.admitted) leases.set(id, now + change.ttlMs);
  return decision;
}

describe("LeaseBook", () => {
  it("decides as settleLeases does over the whole list, change after change", () => {
    for (let seed = 1; seed <= 40; seed++) {
      const next = random(seed);
      const pick = <T>(xs: T[]) => xs[Math.floor(next() * xs.length)]!;
      const ids = [...Array.from({ length: 12 }, (_, n) => `a${n}`), ...Array.from({ length: 4 }, (_, n) => `${PLACE_PREFIX}${n}`)];
      const reference = new Map<string, number>();
      const book = new LeaseBook();
      let now = 1_000;
      for (let step = 0; step < 300; step++) {
        now += Math.floor(next() * 40);
        const change: LeaseChange = {
          release: Array.from({ length: Math.floor(next() * 3) }, () => pick(ids)),
          acquire: Array.from({ length: Math.floor(next() * 4) }, () => pick(ids)),
          ttlMs: pick([30, 100, 400]),
          limit: pick([1, 3, 8, 20]),
        };
        const live = new Set([...reference].filter(([, expiresAt]) => expiresAt > now).map(([id]) => id));
        const expected = referenceSettle(reference, change, now);
        const { ended, expiresAt, ...decision } = book.settle(change, now);
        expect(decision, `seed ${seed}, step ${step}`).toEqual(expected);
        expect(expiresAt).toBe(now + change.ttlMs);
        expect(ended.sort()).toEqual([...new Set([...expected.expired, ...change.release.filter((id) => live.has(id))])].sort());
        expect(book.ids().sort()).toEqual([...reference.keys()].sort());
      }
    }
  });

  it("names every lease a settle ended, expired or released while held, and no other", () => {
    const book = new LeaseBook([
      ["a", 100],
      ["b", 500],
      ["c", 500],
    ]);
    const settled = book.settle({ release: ["b", "x"], acquire: ["d"], ttlMs: 1_000, limit: 10 }, 200);
    expect(settled.expired).toEqual(["a"]);
    expect(settled.ended.sort()).toEqual(["a", "b"]);
    expect(settled.admitted).toEqual(["d"]);
    expect(book.ids().sort()).toEqual(["c", "d"]);
  });

  it("looks through the whole book only once the earliest expiry may have passed", () => {
    const book = new LeaseBook(Array.from({ length: 500 }, (_, n) => [`q${n}`, 10_000 + n] as const));
    for (let n = 0; n < 500; n++) book.settle({ release: [`q${n}`], acquire: [`r${n}`], ttlMs: 60_000, limit: 1_000 }, 1_000 + n);
    expect(book.scans).toBe(0);
    // r0 expires at 61_000: the next settle after it scans once and drops it.
    const late = book.settle({ release: [], acquire: [], ttlMs: 60_000, limit: 1_000 }, 61_000);
    expect(late.expired).toEqual(["r0"]);
    expect(book.scans).toBe(1);
    book.settle({ release: [], acquire: [], ttlMs: 60_000, limit: 1_000 }, 61_000);
    expect(book.scans).toBe(1);
  });
});
