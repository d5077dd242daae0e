// The drain state machine both Node roles run on SIGTERM (src/core/drain.ts).
import { describe, expect, it, vi } from "vitest";
import { Drain, within } from "../../src/core/drain.js";

/** Whether a promise has settled by the time pending microtasks have run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe("drain", () => {
  it("is not ready while starting, ready while serving, and not ready from the moment it drains", () => {
    const drain = new Drain();
    expect([drain.phase, drain.ready]).toEqual(["starting", false]);
    drain.serving();
    expect([drain.phase, drain.ready]).toEqual(["serving", true]);
    void drain.drain();
    expect([drain.phase, drain.ready]).toEqual(["drained", false]);
  });

  it("stays draining until the last piece of work ends, then is drained", async () => {
    const drain = new Drain();
    drain.serving();
    const first = drain.enter();
    const second = drain.admit()!;
    const drained = drain.drain();
    expect([drain.phase, drain.ready, drain.inFlight]).toEqual(["draining", false, 2]);
    first();
    expect(await settled(drained)).toBe(false);
    second();
    expect(await settled(drained)).toBe(true);
    expect([drain.phase, drain.inFlight]).toEqual(["drained", 0]);
  });

  it("refuses new work through admit once draining, but still counts what enters", async () => {
    const drain = new Drain();
    drain.serving();
    const running = drain.enter();
    const drained = drain.drain();
    expect(drain.admit()).toBeUndefined();
    const late = drain.enter();
    running();
    expect(await settled(drained)).toBe(false);
    late();
    expect(await settled(drained)).toBe(true);
  });

  it("counts a piece of work once however often it is ended", async () => {
    const drain = new Drain();
    const one = drain.enter();
    const other = drain.enter();
    one();
    one();
    expect(drain.inFlight).toBe(1);
    const drained = drain.drain();
    expect(await settled(drained)).toBe(false);
    other();
    expect(await settled(drained)).toBe(true);
  });

  it("drains at once when nothing is in flight, even before it served, and stays out of service", async () => {
    const drain = new Drain();
    await drain.drain();
    drain.serving();
    expect([drain.phase, drain.ready]).toEqual(["drained", false]);
    expect(drain.drain()).toBe(drain.drain());
  });
});

describe("within", () => {
  it("tells work that ended in time from work that did not", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const quick = within(Promise.resolve(), 1_000);
      const slow = within(new Promise(() => {}), 1_000);
      await vi.advanceTimersByTimeAsync(999);
      expect(await quick).toBe("done");
      expect(await settled(slow)).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(await slow).toBe("timed out");
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it("passes on the work's failure", async () => {
    await expect(within(Promise.reject(new Error("stop failed")), 1_000)).rejects.toThrow("stop failed");
  });
});
