// The dispatch journal's rule (src/activation/journal.ts): what is journaled,
// what a sweep takes for lost, re-queues, gives up on, or leaves alone.
import { describe, expect, it } from "vitest";
import type { ActivationRecord } from "../../src/core/activation.js";
import {
  CURRENT_BOOT_GRACE_MS,
  isLost,
  JournaledDispatcher,
  JournalWrites,
  MAX_ATTEMPTS,
  sweepJournal,
} from "../../src/activation/journal.js";
import type { Dispatcher, DispatchMessage } from "../../src/ports/dispatcher.js";
import type { JournalEntry, Store } from "../../src/ports/store.js";

const identity = { subject: "guest", namespace: "guest", uuid: "u", authKey: "u:k" };

function invoke(activationId: string): DispatchMessage {
  return {
    type: "invoke",
    request: { activationId, transactionId: "t", action: { namespace: "guest", name: "a" }, identity, params: {}, receivedAt: 0, apiHost: "http://h" },
  };
}

function fire(activationId: string): DispatchMessage {
  return {
    type: "fire",
    fire: {
      activationId,
      transactionId: "t",
      trigger: { namespace: "guest", name: "t" },
      triggerVersion: "0.0.1",
      triggerParams: [],
      rules: {},
      identity,
      payload: {},
      headers: {},
      receivedAt: 0,
      apiHost: "http://h",
    },
  };
}

/** The journal and activation parts of a Store, in memory, with the SQL store's semantics. */
class MemoryJournalStore {
  journal = new Map<string, JournalEntry>();
  records = new Map<string, ActivationRecord>();

  async journalDispatch(entry: { activationId: string; namespace: string; message: DispatchMessage; boot: string; at: number }) {
    const old = this.journal.get(entry.activationId);
    this.journal.set(entry.activationId, {
      activationId: entry.activationId,
      namespace: entry.namespace,
      message: entry.message,
      boot: entry.boot,
      dispatchedAt: entry.at,
      attempts: (old?.attempts ?? 0) + 1,
    });
  }
  journalCalls = 0;
  async journalDispatches(entries: { activationId: string; namespace: string; message: DispatchMessage; boot: string; at: number }[]) {
    this.journalCalls++;
    await new Promise((resolve) => setTimeout(resolve, 1));
    for (const entry of entries) await this.journalDispatch(entry);
  }
  async listJournal(query: { otherThanBoot: string; dispatchedBefore: number; limit: number }) {
    return [...this.journal.values()]
      .filter((e) => !this.records.has(e.activationId) && (e.boot !== query.otherThanBoot || e.dispatchedAt < query.dispatchedBefore))
      .sort((a, b) => a.dispatchedAt - b.dispatchedAt)
      .slice(0, query.limit);
  }
  async pruneJournal() {
    let n = 0;
    for (const id of this.journal.keys()) if (this.records.has(id)) (this.journal.delete(id), n++);
    return n;
  }
  async deleteJournalEntry(id: string) {
    this.journal.delete(id);
  }
  async putActivation(record: ActivationRecord) {
    if (this.records.has(record.activationId)) return false;
    this.records.set(record.activationId, record);
    return true;
  }
}

class RecordingQueue implements Dispatcher {
  sent: DispatchMessage[] = [];
  failing = false;
  async dispatch(message: DispatchMessage) {
    if (this.failing) throw new Error("queue down");
    this.sent.push(message);
  }
}

function setup() {
  const memory = new MemoryJournalStore();
  const queue = new RecordingQueue();
  return { memory, store: memory as unknown as Store, queue };
}

describe("JournaledDispatcher", () => {
  it("journals a message before queueing it", async () => {
    const { memory, store } = setup();
    const order: string[] = [];
    const queue: Dispatcher = { dispatch: async () => void order.push(`sent with ${memory.journal.size} journaled`) };
    await new JournaledDispatcher(store, queue, "boot-1", () => 42).dispatch(invoke("a1"));
    await new JournaledDispatcher(store, queue, "boot-1", () => 43).dispatch(fire("f1"));
    expect(order).toEqual(["sent with 1 journaled", "sent with 2 journaled"]);
    expect(memory.journal.get("a1")).toMatchObject({ namespace: "guest", boot: "boot-1", dispatchedAt: 42, attempts: 1 });
    expect(memory.journal.get("f1")?.message.type).toBe("fire");
  });

  it("forgets a message the queue refused: the caller got an error, not an id", async () => {
    const { memory, store, queue } = setup();
    queue.failing = true;
    await expect(new JournaledDispatcher(store, queue, "b").dispatch(invoke("a1"))).rejects.toThrow("queue down");
    expect(memory.journal.size).toBe(0);
  });

  it("adopts a running activation (a blocking invoke answered 202) without queueing it, and a later run re-queues it if it never recorded", async () => {
    const { memory, store, queue } = setup();
    await new JournaledDispatcher(store, queue, "crashed", () => 5).adopt(invoke("a1"));
    expect(queue.sent).toHaveLength(0);
    expect(memory.journal.get("a1")).toMatchObject({ boot: "crashed", dispatchedAt: 5, attempts: 1 });
    expect(await sweepJournal({ store, queue, boot: "restarted" }, 10)).toMatchObject({ requeued: 1 });
    expect(queue.sent.map((m) => m.type === "invoke" && m.request.activationId)).toEqual(["a1"]);
  });
});

describe("JournalWrites", () => {
  it("journals concurrent accepts in fewer store calls, each queued only once its own entry is written", async () => {
    const { memory, store, queue } = setup();
    const writes = new JournalWrites();
    const journaledWhenSent: boolean[] = [];
    const checking: Dispatcher = {
      dispatch: async (message) => {
        journaledWhenSent.push(memory.journal.has(message.type === "invoke" ? message.request.activationId : ""));
        await queue.dispatch(message);
      },
    };
    const ids = Array.from({ length: 10 }, (_, i) => `a${i}`);
    await Promise.all(ids.map((id) => new JournaledDispatcher(store, checking, "boot-1", () => 7, writes).dispatch(invoke(id))));
    expect([...memory.journal.keys()].sort()).toEqual([...ids].sort());
    expect(queue.sent).toHaveLength(10);
    expect(journaledWhenSent).toEqual(ids.map(() => true));
    // The first alone, the nine that arrived during its write together.
    expect(memory.journalCalls).toBe(2);
  });
});

describe("isLost", () => {
  const entry = { activationId: "a", namespace: "guest", message: invoke("a"), boot: "old", dispatchedAt: 1_000, attempts: 1 };

  it("takes a message queued by another server run for lost at once", () => {
    expect(isLost(entry, "new", 1_001)).toBe(true);
  });

  it("gives a message of the running server its whole grace (queue retries, longest timeout)", () => {
    expect(isLost(entry, "old", 1_000 + CURRENT_BOOT_GRACE_MS)).toBe(false);
    expect(isLost(entry, "old", 1_001 + CURRENT_BOOT_GRACE_MS)).toBe(true);
    expect(CURRENT_BOOT_GRACE_MS).toBeGreaterThan(5 * 60_000 + 62_000);
  });
});

describe("sweepJournal", () => {
  it("re-queues what a dead server left, once, under this run", async () => {
    const { memory, store, queue } = setup();
    await new JournaledDispatcher(store, { dispatch: async () => {} }, "dead", () => 1_000).dispatch(invoke("a1"));
    await new JournaledDispatcher(store, { dispatch: async () => {} }, "dead", () => 1_000).dispatch(fire("f1"));
    const report = await sweepJournal({ store, queue, boot: "alive" }, 2_000);
    expect(report).toEqual({ pruned: 0, requeued: 2, failed: 0 });
    expect(queue.sent.map((m) => m.type)).toEqual(["invoke", "fire"]);
    // Their activations may have run: marked, so the consumer checks for a record even on a first delivery.
    expect(queue.sent.map((m) => m.resent)).toEqual([true, true]);
    expect(memory.journal.get("a1")?.message.resent).toBe(true);
    expect(memory.journal.get("a1")).toMatchObject({ boot: "alive", dispatchedAt: 2_000, attempts: 2 });
    // Queued again by this run: not lost, not sent a second time.
    expect(await sweepJournal({ store, queue, boot: "alive" }, 3_000)).toEqual({ pruned: 0, requeued: 0, failed: 0 });
    expect(queue.sent).toHaveLength(2);
  });

  it("forgets entries whose activation is recorded, and never re-queues them", async () => {
    const { memory, store, queue } = setup();
    await new JournaledDispatcher(store, { dispatch: async () => {} }, "dead").dispatch(invoke("a1"));
    memory.records.set("a1", { activationId: "a1" } as ActivationRecord);
    expect(await sweepJournal({ store, queue, boot: "alive" })).toEqual({ pruned: 1, requeued: 0, failed: 0 });
    expect(queue.sent).toHaveLength(0);
    expect(memory.journal.size).toBe(0);
  });

  it("leaves the running server's recent messages alone", async () => {
    const { store, queue } = setup();
    await new JournaledDispatcher(store, { dispatch: async () => {} }, "alive", () => 1_000).dispatch(invoke("a1"));
    expect(await sweepJournal({ store, queue, boot: "alive" }, 60_000)).toMatchObject({ requeued: 0 });
    expect(await sweepJournal({ store, queue, boot: "alive" }, 2_000 + CURRENT_BOOT_GRACE_MS)).toMatchObject({ requeued: 1 });
  });

  it(`records a whisk internal error after ${MAX_ATTEMPTS} attempts, for invokes and fires`, async () => {
    const { memory, store, queue } = setup();
    for (let run = 1; run <= MAX_ATTEMPTS; run++) {
      await new JournaledDispatcher(store, { dispatch: async () => {} }, `run-${run}`).dispatch(invoke("a1"));
      await new JournaledDispatcher(store, { dispatch: async () => {} }, `run-${run}`).dispatch(fire("f1"));
    }
    const report = await sweepJournal({ store, queue, boot: "alive" });
    expect(report).toEqual({ pruned: 0, requeued: 0, failed: 2 });
    expect(queue.sent).toHaveLength(0);
    expect(memory.journal.size).toBe(0);
    for (const id of ["a1", "f1"]) {
      expect(memory.records.get(id)?.response).toMatchObject({ status: "whisk internal error", success: false });
    }
  });

  it("keeps an entry it could not re-queue for the next sweep", async () => {
    const { memory, store, queue } = setup();
    await new JournaledDispatcher(store, { dispatch: async () => {} }, "dead").dispatch(invoke("a1"));
    queue.failing = true;
    expect(await sweepJournal({ store, queue, boot: "alive" })).toMatchObject({ requeued: 0 });
    expect(memory.journal.has("a1")).toBe(true);
    expect(memory.journal.get("a1")).toMatchObject({ boot: "dead", attempts: 1 });
    queue.failing = false;
    expect(await sweepJournal({ store, queue, boot: "alive" })).toMatchObject({ requeued: 1 });
    expect(memory.journal.get("a1")).toMatchObject({ boot: "alive", attempts: 2 });
  });
});
