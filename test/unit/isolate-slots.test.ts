import { afterEach, describe, expect, it, vi } from "vitest";
import { WhiskError } from "../../src/core/errors.js";
import { IsolateSlots } from "../../src/invoker/isolate-slots.js";

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("IsolateSlots", () => {
  it("gives parallel activations of a concurrency-1 key an isolate each, and reuses the lowest free one", async () => {
    const slots = new IsolateSlots();
    const a = await slots.acquire("k", 1);
    const b = await slots.acquire("k", 1);
    const c = await slots.acquire("k", 1);
    expect([a.id, b.id, c.id]).toEqual(["k/0", "k/1", "k/2"]);
    b.release();
    expect((await slots.acquire("k", 1)).id).toBe("k/1");
    a.release();
    expect((await slots.acquire("k", 1)).id).toBe("k/0");
    // Keys never share.
    expect((await slots.acquire("other", 1)).id).toBe("other/0");
  });

  it("lets up to `concurrency` activations share an isolate", async () => {
    const slots = new IsolateSlots();
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push((await slots.acquire("k", 3)).id);
    expect(ids).toEqual(["k/0", "k/0", "k/0", "k/1"]);
    expect(slots.stats()).toMatchObject({ busy: 2 });
  });

  it("forgets idle slots and keys (no map grows with the keys seen)", async () => {
    const slots = new IsolateSlots();
    for (let i = 0; i < 100; i++) {
      const held = [await slots.acquire(`k${i}`, 1), await slots.acquire(`k${i}`, 1)];
      for (const slot of held) slot.release();
    }
    expect(slots.stats()).toEqual({ busy: 0, waiting: 0, keys: 0, inLines: 0 });
    const slot = await slots.acquire("k", 1);
    slot.release();
    slot.release(); // a second release changes nothing
    expect(slots.stats()).toEqual({ busy: 0, waiting: 0, keys: 0, inLines: 0 });
  });

  it("past its bound, queues activations first in, first out, then answers 503 when the queue is full", async () => {
    const slots = new IsolateSlots({ maxBusy: 2, maxWaiting: 2, maxWaitMs: 60_000 });
    const a = await slots.acquire("a", 1);
    const b = await slots.acquire("b", 1);
    const order: string[] = [];
    const first = slots.acquire("c", 1).then((slot) => (order.push("c"), slot));
    const second = slots.acquire("d", 1).then((slot) => (order.push("d"), slot));
    let refused: unknown;
    try {
      await slots.acquire("e", 1);
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(WhiskError);
    expect((refused as WhiskError).status).toBe(503);
    expect((refused as WhiskError).message).toBe("System is overloaded, try again later.");
    expect(slots.stats()).toEqual({ busy: 2, waiting: 2, keys: 2, inLines: 0 });

    await settle();
    expect(order).toEqual([]);
    b.release();
    expect((await first).id).toBe("c/0");
    await settle();
    expect(order).toEqual(["c"]);
    a.release();
    expect((await second).id).toBe("d/0");
    expect(order).toEqual(["c", "d"]);
  });

  it("a waiting activation gets room in a shared isolate as soon as one of its activations ends", async () => {
    const slots = new IsolateSlots({ maxBusy: 1, maxWaiting: 5, maxWaitMs: 60_000 });
    const held = [await slots.acquire("k", 2), await slots.acquire("k", 2)];
    expect(held.map((s) => s.id)).toEqual(["k/0", "k/0"]);
    const waiting = slots.acquire("k", 2);
    held[0].release();
    expect((await waiting).id).toBe("k/0");
  });

  it("answers 503 to an activation that waited too long", async () => {
    const slots = new IsolateSlots({ maxBusy: 1, maxWaiting: 5, maxWaitMs: 20 });
    const held = await slots.acquire("a", 1);
    await expect(slots.acquire("b", 1)).rejects.toMatchObject({ status: 503 });
    expect(slots.stats()).toMatchObject({ waiting: 0 });
    held.release();
    expect((await slots.acquire("b", 1)).id).toBe("b/0");
  });

  describe("queued activations", () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    /** Whether a promise has settled (after pending callbacks ran). */
    const settled = async (promise: Promise<unknown>) => {
      let done = false;
      void promise.then(
        () => (done = true),
        () => (done = true),
      );
      await Promise.resolve();
      await Promise.resolve();
      return done;
    };

    it("wait for the key's busy isolate and get it as it frees, first in, first out, instead of starting more", async () => {
      vi.useFakeTimers();
      const slots = new IsolateSlots({ warmWaitMs: 25 });
      const running = await slots.acquire("k", 1, { queued: true });
      expect(running.id).toBe("k/0");
      const first = slots.acquire("k", 1, { queued: true });
      const second = slots.acquire("k", 1, { queued: true });
      expect(slots.stats()).toMatchObject({ busy: 1, inLines: 2 });
      await vi.advanceTimersByTimeAsync(10);
      expect(await settled(first)).toBe(false);
      running.release();
      const a = await first;
      expect(a.id).toBe("k/0");
      expect(await settled(second)).toBe(false);
      a.release();
      expect((await second).id).toBe("k/0");
      expect(slots.stats()).toMatchObject({ busy: 1, inLines: 0 });
    });

    it("start one more isolate when the line has not moved for warmWaitMs, one at a time", async () => {
      vi.useFakeTimers();
      const slots = new IsolateSlots({ warmWaitMs: 25 });
      const running = await slots.acquire("k", 1);
      const line = [0, 1, 2].map(() => slots.acquire("k", 1, { queued: true }));
      await vi.advanceTimersByTimeAsync(24);
      expect(await settled(line[0])).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      const started = await line[0];
      expect(started.id).toBe("k/1");
      // No further start while the one started has not ended its first run (starting holds up the others).
      await vi.advanceTimersByTimeAsync(100);
      expect(await settled(line[1])).toBe(false);
      // Its end hands it to the line, which has moved: the next start comes warmWaitMs later.
      started.release();
      expect((await line[1]).id).toBe("k/1");
      await vi.advanceTimersByTimeAsync(24);
      expect(await settled(line[2])).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect((await line[2]).id).toBe("k/2");
      // A freed isolate with nobody in line is just free.
      running.release();
      expect(slots.stats()).toMatchObject({ busy: 2, inLines: 0 });
    });

    it("start one more isolate when the oldest has waited lineWaitMs, though the line moves", async () => {
      vi.useFakeTimers();
      const slots = new IsolateSlots({ warmWaitMs: 25, lineWaitMs: 100, lineDepth: 100 });
      let running = await slots.acquire("k", 1);
      const line = Array.from({ length: 8 }, () => slots.acquire("k", 1, { queued: true }));
      const served = [];
      // The key's one isolate frees every 20 ms: the line moves, one at a time.
      for (let i = 0; i < 4; i++) {
        await vi.advanceTimersByTimeAsync(20);
        running.release();
        running = await line[i];
        served.push(running.id);
      }
      expect(served).toEqual(["k/0", "k/0", "k/0", "k/0"]);
      expect(slots.stats()).toMatchObject({ busy: 1, inLines: 4 });
      // At 100 ms the oldest left (line[4]) has waited lineWaitMs: it gets an isolate of its own.
      await vi.advanceTimersByTimeAsync(20);
      const started = await line[4];
      expect(started.id).toBe("k/1");
      expect(slots.stats()).toMatchObject({ busy: 2, inLines: 3 });
      // Not another while that one has not ended its first run, though the next has waited as long.
      await vi.advanceTimersByTimeAsync(50);
      expect(await settled(line[5])).toBe(false);
      started.release();
      expect((await line[5]).id).toBe("k/1");
      // The next has waited over lineWaitMs: a start, warmWaitMs after the last.
      await vi.advanceTimersByTimeAsync(0);
      expect((await line[6]).id).toBe("k/2");
    });

    it("start one more isolate for the oldest when the line is longer than lineDepth per busy isolate", async () => {
      vi.useFakeTimers();
      const slots = new IsolateSlots({ lineDepth: 2, warmWaitMs: 60_000, lineWaitMs: 60_000 });
      const running = await slots.acquire("k", 1);
      const line = Array.from({ length: 3 }, () => slots.acquire("k", 1, { queued: true }));
      // Three waiting behind one busy isolate: the oldest gets a second.
      expect((await line[0]).id).toBe("k/1");
      expect(await settled(line[1])).toBe(false);
      expect(slots.stats()).toMatchObject({ busy: 2, inLines: 2 });
      // Up to four may wait behind two.
      const more = Array.from({ length: 2 }, () => slots.acquire("k", 1, { queued: true }));
      expect(slots.stats()).toMatchObject({ busy: 2, inLines: 4 });
      running.release();
      expect((await line[1]).id).toBe("k/0");
      expect(await settled(more[0])).toBe(false);
      // Deeper still, but the isolate started for the line has not ended its first run: no second start.
      more.push(slots.acquire("k", 1, { queued: true }), slots.acquire("k", 1, { queued: true }));
      expect(slots.stats()).toMatchObject({ busy: 2, inLines: 5 });
    });

    it("hold further starts back for lineWaitMs at most while the first run of a started isolate lasts", async () => {
      vi.useFakeTimers();
      const slots = new IsolateSlots({ warmWaitMs: 25, lineWaitMs: 200, lineDepth: 100 });
      await slots.acquire("k", 1);
      const line = [0, 1].map(() => slots.acquire("k", 1, { queued: true }));
      await vi.advanceTimersByTimeAsync(25);
      expect((await line[0]).id).toBe("k/1");
      // Nothing ends (a slow action): the next start waits for the first run, but not past lineWaitMs.
      await vi.advanceTimersByTimeAsync(150);
      expect(await settled(line[1])).toBe(false);
      await vi.advanceTimersByTimeAsync(51);
      expect((await line[1]).id).toBe("k/2");
    });

    it("start at once when the key has nothing running, room in a busy isolate, or a free isolate below a busy one", async () => {
      const slots = new IsolateSlots();
      const a = await slots.acquire("k", 1, { queued: true });
      expect(a.id).toBe("k/0");
      // A client-facing activation does not wait.
      const b = await slots.acquire("k", 1);
      expect(b.id).toBe("k/1");
      a.release();
      // k/0 is free below the busy k/1: likely warm.
      expect((await slots.acquire("k", 1, { queued: true })).id).toBe("k/0");
      expect((await slots.acquire("shared", 2, { queued: true })).id).toBe("shared/0");
      expect((await slots.acquire("shared", 2, { queued: true })).id).toBe("shared/0");
    });

    it("do not wait past the bound on waiting activations", async () => {
      vi.useFakeTimers();
      const slots = new IsolateSlots({ maxWaiting: 1, warmWaitMs: 25 });
      await slots.acquire("k", 1);
      const waiting = slots.acquire("k", 1, { queued: true });
      expect(slots.stats()).toMatchObject({ inLines: 1 });
      expect((await slots.acquire("k", 1, { queued: true })).id).toBe("k/1");
      await vi.advanceTimersByTimeAsync(25);
      expect((await waiting).id).toBe("k/2");
    });

    it("wait at the invoker's bound like any activation once their time in line is up", async () => {
      vi.useFakeTimers();
      const slots = new IsolateSlots({ maxBusy: 1, maxWaitMs: 100, warmWaitMs: 25 });
      const running = await slots.acquire("k", 1);
      const queued = slots.acquire("k", 1, { queued: true });
      await vi.advanceTimersByTimeAsync(25);
      expect(slots.stats()).toMatchObject({ busy: 1, waiting: 1, inLines: 0 });
      running.release();
      expect((await queued).id).toBe("k/0");
    });

    it("serve every queued activation of a busy key, whatever the order of ends and starts", async () => {
      vi.useFakeTimers();
      for (let round = 1; round <= 20; round++) {
        let seed = round;
        const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
        const slots = new IsolateSlots({ warmWaitMs: 5, lineWaitMs: 20, lineDepth: 2 });
        let served = 0;
        const run = async (queued: boolean) => {
          const slot = await slots.acquire("k", 1, { queued });
          await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 12)));
          slot.release();
          served++;
        };
        const runs: Promise<void>[] = [];
        for (let i = 0; i < 200; i++) {
          runs.push(run(random() < 0.9));
          if (random() < 0.5) await vi.advanceTimersByTimeAsync(Math.floor(random() * 8));
        }
        for (let t = 0; t < 1_000 && served < runs.length; t++) await vi.advanceTimersByTimeAsync(5);
        expect({ round, served }).toEqual({ round, served: runs.length });
        expect(slots.stats()).toEqual({ busy: 0, waiting: 0, keys: 0, inLines: 0 });
      }
    });
  });
});
