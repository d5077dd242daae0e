// Activation records that end together go to the store together
// (src/store/record-writes.ts), and each caller still learns whether its
// own record was stored now.
import { describe, expect, it, vi } from "vitest";
import { RecordWrites } from "../../src/store/record-writes.js";
import { activationRecord } from "../support/entities.js";
import { memoryStore } from "../support/memory-sql.js";

const record = (n: number) =>
  activationRecord({ activationId: `${n}`.padStart(32, "0"), namespace: "guest", name: "hello", start: 1_790_000_000_000 + n });

describe("RecordWrites", () => {
  it("writes a lone record at once, and the records that end during that write in one call after it", async () => {
    const { store } = memoryStore();
    const calls: string[][] = [];
    let release!: () => void;
    const hanging = new Promise<void>((resolve) => (release = resolve));
    const putActivations = store.putActivations.bind(store);
    vi.spyOn(store, "putActivations").mockImplementation(async (records) => {
      calls.push(records.map((r) => r.activationId));
      if (calls.length === 1) await hanging;
      return putActivations(records);
    });
    const writes = new RecordWrites(store);
    const first = writes.put(record(1));
    const later = [2, 3, 4].map((n) => writes.put(record(n)));
    expect(calls).toEqual([[record(1).activationId]]);
    release();
    expect(await Promise.all([first, ...later])).toEqual([true, true, true, true]);
    expect(calls).toEqual([[record(1).activationId], [2, 3, 4].map((n) => record(n).activationId)]);
    expect(await store.countActivations("guest", {})).toBe(4);
  });

  it("answers false to the caller whose record was there already, true to the others in the same write", async () => {
    const { store } = memoryStore();
    await store.putActivation(record(7));
    const writes = new RecordWrites(store);
    const answers = await Promise.all([writes.put(record(6)), writes.put(record(7)), writes.put(record(8))]);
    expect(answers).toEqual([true, false, true]);
  });

  it("fails only the caller whose record the store refuses", async () => {
    const { store } = memoryStore();
    const putActivations = store.putActivations.bind(store);
    vi.spyOn(store, "putActivations").mockImplementation(async (records) => {
      if (records.some((r) => r.name === "refused")) throw new Error("refused");
      return putActivations(records);
    });
    const writes = new RecordWrites(store);
    const refused = { ...record(10), name: "refused" };
    const outcomes = await Promise.allSettled([writes.put(record(9)), writes.put(refused), writes.put(record(11))]);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(await store.countActivations("guest", {})).toBe(2);
  });
});
