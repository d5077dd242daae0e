// The accepted-dispatch journal, for hosts whose queue may lose what it was
// given (`npm start`: miniflare keeps Queues in memory, so a killed or
// restarted server drops every message it held). Each message is journaled
// in the store before it is queued, and the entry counts as done once an
// activation record with its id exists. A sweep finds entries that cannot be
// done any more and queues them again, or, after MAX_ATTEMPTS, records the
// activation as a whisk internal error, so every accepted id ends with a
// record. Redelivery is safe: the dispatch path skips recorded activations
// and fires derive their rule activations' ids (fire.ts).
//
// Which entries are lost is decided by the server run ("boot") that queued
// them: a message queued by another run went down with that run's queue and
// its running activations, so it is re-queued at once; one queued by this run
// is only re-queued after the longest a live message may take (queue retries
// and dead-lettering, plus the longest action timeout). That holds where one
// server run owns the queue, which is what `npm start` is.
import type { ActivationRecord } from "../core/activation.js";
import { GroupCommit } from "../core/group-commit.js";
import { LIMITS } from "../core/limits.js";
import type { ConcurrencyGate } from "../ports/admission.js";
import type { Dispatcher, DispatchMessage } from "../ports/dispatcher.js";
import type { JournalDraft, JournalEntry, Store } from "../ports/store.js";
import { handleDeadLetter } from "./dispatch.js";

/** Times a message is queued (the first time included) before its activation is recorded as failed. */
export const MAX_ATTEMPTS = 3;
/**
 * How long a message queued by the running server may stay unrecorded before
 * it is taken for lost: its queue retries (2+4+…+32 s of backoff, then the
 * dead-letter queue) and a run at the longest timeout fit well inside.
 */
export const CURRENT_BOOT_GRACE_MS = 10 * 60_000 + LIMITS.timeout.max;
/** Entries handled per sweep; the next sweep takes the rest. */
export const SWEEP_BATCH = 200;

export function journalKey(message: DispatchMessage): { activationId: string; namespace: string } {
  const { activationId, identity } = message.type === "invoke" ? message.request : message.fire;
  return { activationId, namespace: identity.namespace };
}

/** Entries written in one store call at most; more wait for the next. */
export const MAX_GATHERED_ENTRIES = 100;

/**
 * The journal writes of one process, gathered (src/core/group-commit.ts):
 * an accept that arrives while another's entry is being written waits for
 * that write and goes, with the others that arrived meanwhile, in the next
 * one. Each accept still answers only once its own entry is written.
 */
export class JournalWrites {
  private readonly commits = new GroupCommit<JournalDraft>(MAX_GATHERED_ENTRIES);

  write(store: Store, entry: JournalDraft): Promise<void> {
    return this.commits.add([entry], (entries) => store.journalDispatches(entries));
  }
}

/** A Dispatcher that journals each message before handing it to the queue. */
export class JournaledDispatcher implements Dispatcher {
  constructor(
    private readonly store: Store,
    private readonly queue: Dispatcher,
    /** This server run. */
    private readonly boot: string,
    private readonly now: () => number = Date.now,
    /** Its journal writes, gathered; shared, with those of the other dispatchers that share it. */
    private readonly writes: JournalWrites = new JournalWrites(),
  ) {}

  async dispatch(message: DispatchMessage): Promise<void> {
    const key = journalKey(message);
    await this.adopt(message);
    try {
      await this.queue.dispatch(message);
    } catch (err) {
      // Not accepted (the caller gets the error, not an id): nothing to recover later.
      await this.store.deleteJournalEntry(key.activationId).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Journals `messages` and stores `record` in one write, then queues the
   * messages. One the queue then refuses stays journaled, as the record
   * already logs its activation as started: the sweep sends it again (at
   * once after a restart; after CURRENT_BOOT_GRACE_MS while this run lives,
   * and a local queue refuses only as its server goes down).
   */
  async dispatchRecorded(messages: DispatchMessage[], record: ActivationRecord): Promise<void> {
    const at = this.now();
    await this.store.journalWithRecord(
      messages.map((message) => ({ ...journalKey(message), message, boot: this.boot, at })),
      record,
    );
    const sent = await Promise.allSettled(messages.map((message) => this.queue.dispatch(message)));
    sent.forEach((result, at) => {
      if (result.status === "rejected") {
        console.error(`activation ${journalKey(messages[at]!).activationId} not queued, left to the journal sweep:`, result.reason);
      }
    });
  }

  /**
   * Journals without queueing: the activation runs already. This run's
   * entries are only taken for lost after CURRENT_BOOT_GRACE_MS, long after
   * a live run has recorded; after a crash the next run queues it again.
   */
  async adopt(message: DispatchMessage): Promise<void> {
    const entry = { ...journalKey(message), message, boot: this.boot, at: this.now() };
    await this.writes.write(this.store, entry);
  }
}

/** Whether an entry's message is taken for lost (its activation is known to have no record). */
export function isLost(entry: JournalEntry, boot: string, now: number): boolean {
  return entry.boot !== boot || now - entry.dispatchedAt > CURRENT_BOOT_GRACE_MS;
}

export interface SweepDeps {
  store: Store;
  /** The plain queue: the sweep journals re-sends itself. */
  queue: Dispatcher;
  /** This server run. */
  boot: string;
  concurrency?: ConcurrencyGate;
}

export interface SweepReport {
  pruned: number;
  requeued: number;
  failed: number;
}

/** Forgets recorded entries, then re-queues the lost ones or records them as failed. */
export async function sweepJournal(deps: SweepDeps, now = Date.now()): Promise<SweepReport> {
  const pruned = await deps.store.pruneJournal();
  const entries = await deps.store.listJournal({
    otherThanBoot: deps.boot,
    dispatchedBefore: now - CURRENT_BOOT_GRACE_MS,
    limit: SWEEP_BATCH,
  });
  let requeued = 0;
  let failed = 0;
  for (const entry of entries) {
    if (!isLost(entry, deps.boot, now)) continue;
    try {
      if (entry.attempts >= MAX_ATTEMPTS) {
        await handleDeadLetter(entry.message, deps.store, deps.concurrency);
        await deps.store.deleteJournalEntry(entry.activationId);
        failed++;
      } else {
        // Sent, then re-stamped as this run's: a failed send leaves the entry
        // lost for the next sweep, and should this run die before the
        // re-stamp, its queue died with it and the next run sends again.
        // Marked resent: its activation may have run and be on its way to a record.
        const message: DispatchMessage = { ...entry.message, resent: true };
        await deps.queue.dispatch(message);
        await deps.store.journalDispatch({ ...journalKey(message), message, boot: deps.boot, at: now });
        requeued++;
      }
    } catch (err) {
      // The entry stays and the next sweep tries again.
      console.error(`journal sweep: activation ${entry.activationId} not recovered yet:`, err);
    }
  }
  return { pruned, requeued, failed };
}
