import { describe, expect, it } from "vitest";
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
    expect(slots.stats()).toEqual({ busy: 0, waiting: 0, keys: 0 });
    const slot = await slots.acquire("k", 1);
    slot.release();
    slot.release(); // a second release changes nothing
    expect(slots.stats()).toEqual({ busy: 0, waiting: 0, keys: 0 });
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
    expect(slots.stats()).toEqual({ busy: 2, waiting: 2, keys: 2 });

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
});
