// The invoker Durable Object's activation outbox (src/cloudflare/outbox.ts):
// its decisions — batch, bypass, flush, retry by alarm — over a fake of the
// object's storage and the fast tier's store. Only the storage calls the
// outbox makes are faked (kv put/list/delete, setAlarm).
import { beforeEach, describe, expect, it, vi } from "vitest";
import { ActivationOutbox } from "../../src/cloudflare/outbox.js";
import { activationRecord } from "../support/entities.js";
import { memoryStore } from "../support/memory-sql.js";

class FakeObjectStorage {
  readonly values = new Map<string, unknown>();
  readonly alarms: number[] = [];
  readonly kv = {
    put: (key: string, value: unknown) => void this.values.set(key, structuredClone(value)),
    delete: (key: string) => this.values.delete(key),
    list: <T>({ prefix }: { prefix: string }): [string, T][] =>
      [...this.values].filter(([key]) => key.startsWith(prefix)).sort(([a], [b]) => a.localeCompare(b)) as [string, T][],
  };
  /** The alarm as set now, if any. */
  alarm: number | undefined;
  async setAlarm(at: number) {
    this.alarms.push(at);
    this.alarm = at;
  }
  async deleteAlarm() {
    this.alarm = undefined;
  }
}

let storage: FakeObjectStorage;
let store: ReturnType<typeof memoryStore>["store"];
let outbox: ActivationOutbox;
beforeEach(() => {
  storage = new FakeObjectStorage();
  store = memoryStore().store;
  outbox = new ActivationOutbox(storage as unknown as DurableObjectStorage, store);
});

const record = (n: number, logs: string[] = []) =>
  activationRecord({ activationId: n.toString(16).padStart(32, "0"), namespace: "guest", name: "a", start: 1_790_000_000_000 + n, logs });

describe("activation outbox", () => {
  it("keeps records finished together as one stored batch, answers them, then writes them to the store at once", async () => {
    const putActivations = vi.spyOn(store, "putActivations");
    const records = [record(1), record(2), record(3)];
    await Promise.all(records.map((r) => outbox.add(r)));

    // Answered once durable in the object's storage, before the store has them.
    expect([...storage.values.values()]).toEqual([records]);
    expect(await store.getActivation("guest", records[0].activationId)).toBeUndefined();
    expect(storage.alarms).toHaveLength(1);

    await vi.waitFor(() => expect(storage.values.size).toBe(0));
    expect(putActivations).toHaveBeenCalledTimes(1);
    expect(putActivations).toHaveBeenCalledWith(records);
    expect(await store.countActivations("guest", {})).toBe(3);
  });

  it("cancels its safety alarm once D1 has everything it sealed, and arms it again for the next record", async () => {
    await outbox.add(record(1));
    expect(storage.alarm).toBeDefined();
    await vi.waitFor(() => expect(storage.values.size).toBe(0));
    await vi.waitFor(() => expect(storage.alarm).toBeUndefined());
    await outbox.add(record(2));
    expect(storage.alarm).toBeDefined();
    expect(storage.alarms).toHaveLength(2);
    await vi.waitFor(() => expect(storage.alarm).toBeUndefined());
    expect(await store.countActivations("guest", {})).toBe(2);
  });

  it("keeps its safety alarm while records keep coming, instead of deleting and setting it for each", async () => {
    await outbox.add(record(1));
    await vi.waitFor(async () => expect(await store.countActivations("guest", {})).toBe(1));
    await outbox.add(record(2));
    await vi.waitFor(async () => expect(await store.countActivations("guest", {})).toBe(2));
    expect(storage.alarms).toHaveLength(1);
    expect(storage.alarm).toBeDefined();
    await vi.waitFor(() => expect(storage.alarm).toBeUndefined());
    expect(storage.values.size).toBe(0);
  });

  it("deletes a batch D1 has in the same turn as it stores the next, or once idle", async () => {
    await outbox.add(record(1));
    await vi.waitFor(async () => expect(await store.countActivations("guest", {})).toBe(1));
    const [firstKey] = [...storage.values.keys()];
    expect(storage.values.size).toBe(1);
    const deletes: string[] = [];
    const deleteKey = storage.kv.delete;
    storage.kv.delete = (key: string) => (deletes.push(key), deleteKey(key));
    const put = vi.spyOn(storage.kv, "put");
    await outbox.add(record(2));
    // Deleted just before the put, with nothing awaited between them.
    expect(deletes).toEqual([firstKey]);
    expect(put).toHaveBeenCalledTimes(1);
    expect([...storage.values.values()]).toEqual([[record(2)]]);
    await vi.waitFor(() => expect(storage.values.size).toBe(0), { timeout: 2_000 });
    expect(await store.countActivations("guest", {})).toBe(2);
  });

  it("seals a record whose activation is the object's only one without waiting a timer", async () => {
    let running = 1;
    const lone = new ActivationOutbox(storage as unknown as DurableObjectStorage, store, () => running);
    const setTimeoutSpy = vi.spyOn(globalThis, "setTimeout");
    await lone.add(record(1));
    expect(setTimeoutSpy).not.toHaveBeenCalledWith(expect.any(Function), 0);
    expect(storage.values.size).toBe(1);
    // With another activation still running, it waits a 0 ms timer for that one's record.
    running = 2;
    setTimeoutSpy.mockClear();
    await Promise.all([lone.add(record(2)), lone.add(record(3))]);
    expect(setTimeoutSpy).toHaveBeenCalledWith(expect.any(Function), 0);
    expect([...storage.values.values()]).toContainEqual([record(2), record(3)]);
    vi.restoreAllMocks();
    // Its write ends here, not in the next test (the outboxes of an isolate share their writes).
    await vi.waitFor(async () => expect(await store.countActivations("guest", {})).toBe(3));
  });

  it("writes the batches it sealed from memory, without reading storage back", async () => {
    const list = vi.spyOn(storage.kv, "list");
    const records = [record(1), record(2)];
    await outbox.add(records[0]);
    await outbox.add(records[1]);
    expect(storage.values.size).toBe(2);
    await vi.waitFor(() => expect(storage.values.size).toBe(0));
    expect(list).not.toHaveBeenCalled();
    expect(await store.countActivations("guest", {})).toBe(2);
  });

  it("reads storage back once the batches it keeps for the store outgrow its memory, and loses none", async () => {
    // The first D1 write hangs while batches pile up behind it.
    let release!: () => void;
    const hanging = new Promise<void>((resolve) => (release = resolve));
    const putActivations = store.putActivations.bind(store);
    vi.spyOn(store, "putActivations").mockImplementationOnce(async (records) => {
      await hanging;
      return putActivations(records);
    });
    const list = vi.spyOn(storage.kv, "list");
    // ~390 kB each as the outbox reckons: 2 a batch, past 8 MB after 11 batches.
    const records = Array.from({ length: 24 }, (_, n) => record(n + 1, ["y".repeat(130_000)]));
    for (let at = 0; at < records.length; at += 2) await Promise.all(records.slice(at, at + 2).map((r) => outbox.add(r)));
    await vi.waitFor(() => expect(store.putActivations).toHaveBeenCalled());
    expect(storage.values.size).toBe(12);
    release();
    await vi.waitFor(() => expect(storage.values.size).toBe(0));
    expect(list).toHaveBeenCalled();
    expect(await store.countActivations("guest", {})).toBe(24);
    vi.restoreAllMocks();
  });

  it("gathers the writes of several objects' outboxes that meet while one is in flight into one store call", async () => {
    // One invoker object per action: their outboxes share this isolate's writes.
    let release!: () => void;
    const hanging = new Promise<void>((resolve) => (release = resolve));
    const putActivations = store.putActivations.bind(store);
    const calls: string[][] = [];
    vi.spyOn(store, "putActivations").mockImplementation(async (records) => {
      calls.push(records.map((r) => r.activationId));
      if (calls.length === 1) await hanging;
      return putActivations(records);
    });
    const storages = [storage, new FakeObjectStorage(), new FakeObjectStorage()];
    const outboxes = [outbox, ...storages.slice(1).map((s) => new ActivationOutbox(s as unknown as DurableObjectStorage, store))];
    const records = [record(1), record(2), record(3)];
    await outboxes[0]!.add(records[0]!);
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    await Promise.all([outboxes[1]!.add(records[1]!), outboxes[2]!.add(records[2]!)]);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(calls).toHaveLength(1);
    release();
    await vi.waitFor(() => expect(storages.map((s) => s.values.size)).toEqual([0, 0, 0]));
    expect(calls).toEqual([[records[0]!.activationId], [records[1]!.activationId, records[2]!.activationId]]);
    expect(await store.countActivations("guest", {})).toBe(3);
  });

  it("reads storage back after the store refused a write, and loses none", async () => {
    vi.spyOn(store, "putActivations").mockRejectedValueOnce(new Error("D1 is down"));
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    await outbox.add(record(1));
    await vi.waitFor(() => expect(storage.alarms).toHaveLength(2));
    const list = vi.spyOn(storage.kv, "list");
    await outbox.add(record(2));
    await vi.waitFor(() => expect(storage.values.size).toBe(0));
    expect(list).toHaveBeenCalled();
    expect(await store.countActivations("guest", {})).toBe(2);
    vi.restoreAllMocks();
  });

  it("writes a record too large for a storage value straight to the store", async () => {
    const big = record(9, ["x".repeat(400_000)]);
    await outbox.add(big);
    expect(storage.values.size).toBe(0);
    expect(await store.getActivation("guest", big.activationId)).toEqual(big);
  });

  it("sizes a record by the result size its caller measured as it would by serialising the result", async () => {
    const withResult = (n: number) => {
      const r = record(n);
      r.response = { ...r.response, result: { blob: "z".repeat(130_000) } };
      return r;
    };
    const putActivations = vi.spyOn(store, "putActivations").mockRejectedValue(new Error("hold them"));
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const measured = [1, 2, 3].map(withResult);
    await Promise.all(measured.map((r) => outbox.add(r, JSON.stringify(r.response.result).length)));
    const unmeasured = [4, 5, 6].map(withResult);
    await Promise.all(unmeasured.map((r) => outbox.add(r)));
    // Two fit under 1 MB, the third starts another batch, both ways.
    expect([...storage.values.values()].map((batch) => (batch as { activationId: string }[]).map((r) => r.activationId))).toEqual([
      [measured[0].activationId, measured[1].activationId],
      [measured[2].activationId],
      [unmeasured[0].activationId, unmeasured[1].activationId],
      [unmeasured[2].activationId],
    ]);
    await vi.waitFor(() => expect(putActivations).toHaveBeenCalled());
    vi.restoreAllMocks();
  });

  it("splits records that together outgrow a storage value into batches", async () => {
    const records = [1, 2, 3].map((n) => record(n, ["y".repeat(130_000)]));
    const putActivations = vi.spyOn(store, "putActivations").mockRejectedValue(new Error("hold them"));
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    await Promise.all(records.map((r) => outbox.add(r)));
    // ~390 kB each as the outbox reckons: two fit under its 1 MB, the third starts another batch.
    expect([...storage.values.values()].map((batch) => (batch as unknown[]).length)).toEqual([2, 1]);
    await vi.waitFor(() => expect(putActivations).toHaveBeenCalled());
    vi.restoreAllMocks();
  });

  it("keeps a batch the store refused and arms an alarm that writes it later", async () => {
    const putActivations = vi.spyOn(store, "putActivations").mockRejectedValueOnce(new Error("D1 is down"));
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const r = record(4);
    await outbox.add(r);
    await vi.waitFor(() => expect(storage.alarms).toHaveLength(2));
    expect(logged).toHaveBeenCalledOnce();
    expect(storage.alarms[1] - Date.now()).toBeLessThanOrEqual(1_000);
    expect(storage.values.size).toBe(1);
    expect(await store.getActivation("guest", r.activationId)).toBeUndefined();

    await outbox.onAlarm();
    expect(putActivations).toHaveBeenCalledTimes(2);
    expect(storage.values.size).toBe(0);
    expect(await store.getActivation("guest", r.activationId)).toEqual(r);
    vi.restoreAllMocks();
  });

  it("writes what an earlier object left in storage when its alarm fires, and nothing twice", async () => {
    const left = [record(5), record(6)];
    storage.kv.put("outbox:1-0", left);
    await outbox.onAlarm();
    expect(storage.values.size).toBe(0);
    expect(await store.countActivations("guest", {})).toBe(2);
    // A record already written is not written again (records are keyed by id).
    storage.kv.put("outbox:1-1", [left[0]]);
    await outbox.flush();
    expect(await store.countActivations("guest", {})).toBe(2);
  });
});
