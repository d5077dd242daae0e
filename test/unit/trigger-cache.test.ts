// The triggers a controller keeps between fires (src/core/trigger-cache.ts):
// what it keeps, for how long, and what makes it forget.
import { describe, expect, it } from "vitest";
import { WhiskError } from "../../src/core/errors.js";
import { TRIGGER_CACHE_TTL_MS, TriggerCache } from "../../src/core/trigger-cache.js";
import { memoryStore } from "../support/memory-sql.js";
import { countingReader, putAction, putEntity, ref, triggerDoc } from "../support/entities.js";

/** The in-memory store with one trigger, and a count of the entity reads made through `reader`. */
async function storeWithTrigger() {
  const { store } = memoryStore();
  await putEntity(store, { collection: "triggers", ref: ref("guest/t"), doc: triggerDoc(ref("guest/t"), {}, [{ key: "v", value: 1 }]) });
  return { store, ...countingReader(store) };
}

describe("TriggerCache", () => {
  it("answers a repeated read without the store until its TTL has passed", async () => {
    const { reader, counter } = await storeWithTrigger();
    const time = { now: 1_000_000 };
    const cache = new TriggerCache({ now: () => time.now });

    const first = await cache.get(reader, ref("guest/t"));
    expect(first.doc.parameters).toEqual([{ key: "v", value: 1 }]);
    expect(await cache.get(reader, ref("guest/t"))).toEqual(first);
    expect(counter.reads).toBe(1);

    time.now += TRIGGER_CACHE_TTL_MS;
    await cache.get(reader, ref("guest/t"));
    expect(counter.reads).toBe(2);
  });

  it("reads a trigger again once it is forgotten, and sees its new version", async () => {
    const { store, reader, counter } = await storeWithTrigger();
    const cache = new TriggerCache();
    const before = await cache.get(reader, ref("guest/t"));

    const updated = { ...before, doc: triggerDoc(ref("guest/t"), {}, [{ key: "v", value: 2 }]) };
    expect(await store.updateEntity(updated, before.rev)).toBe(true);
    cache.forget([ref("guest/t")]);

    expect((await cache.get(reader, ref("guest/t"))).doc.parameters).toEqual([{ key: "v", value: 2 }]);
    expect(counter.reads).toBe(2);
  });

  it("does not keep a read that was under way when the trigger was forgotten", async () => {
    const { reader, counter } = await storeWithTrigger();
    const cache = new TriggerCache();
    const reading = cache.get(reader, ref("guest/t"));
    cache.forget([ref("guest/t")]);
    await reading;

    await cache.get(reader, ref("guest/t"));
    expect(counter.reads).toBe(2);
  });

  it("keeps no failure: 404 for a missing trigger, 409 for a name held by another kind, read again each time", async () => {
    const { store, reader, counter } = await storeWithTrigger();
    await putAction(store, "guest/act");
    const cache = new TriggerCache();

    await expect(cache.get(reader, ref("guest/none"))).rejects.toMatchObject({ status: 404 });
    await expect(cache.get(reader, ref("guest/act"))).rejects.toSatisfy((err) => err instanceof WhiskError && err.status === 409);
    await expect(cache.get(reader, ref("guest/none"))).rejects.toBeInstanceOf(WhiskError);
    expect(counter.reads).toBe(3);
  });
});
