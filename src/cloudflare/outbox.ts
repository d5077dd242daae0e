// Write-behind for activation records in the invoker Durable Object. Records
// finished together are put in the object's own storage (local, durable) as
// one batch — one write and one commit for all of them — and their callers
// get their answers once that batch is stored; batches then reach D1,
// gathered for FLUSH_DELAY_MS with those of every other invoker object of
// this isolate, so that busy invokers write several records per D1 call.
// Batches D1 has are deleted from storage with the object's next write (one
// commit for both) or once it idles. An alarm retries
// whatever a failed or interrupted flush left, so no record is lost when D1
// hiccups or the object is evicted.
import type { ActivationRecord } from "../core/activation.js";
import { GroupCommit } from "../core/group-commit.js";
import type { Store } from "../ports/store.js";

const PREFIX = "outbox:";
/** Durable Object storage values are capped near 2 MB: batches stay under 1 MB, bigger records go straight to the store. */
const MAX_BATCH_BYTES = 1_000_000;
const RETRY_MS = 1_000;
/**
 * How long sealed batches (of all of this isolate's invoker objects)
 * gather before one D1 write takes them all. A D1
 * call costs far more than a record in it (about 2 ms of CPU against 0.15
 * ms under wrangler dev, November 2026), but records must be readable
 * soon after the answer: clients read an activation right after a blocking
 * invoke (openwhisk-composer reads the activations a composition caused),
 * and at 100 ms those reads were seen to miss (404).
 */
const FLUSH_DELAY_MS = 20;
/** Sealed batches kept in memory for the next flush, at most this big; past it, the flush reads storage instead. */
const MAX_SEALED_BYTES = 8_000_000;
/**
 * A sealed batch also arms an alarm this far ahead, once per burst: if the
 * process dies before the flush (a killed `npm start`), the alarm wakes the
 * object after the restart and its records reach D1 before anything that
 * reads D1 takes their activations for lost and runs them again.
 */
const SAFETY_ALARM_MS = 2_000;
/**
 * An object idle this long after its last write to D1 deletes the batches D1
 * has from its storage and cancels its safety alarm (shorter than
 * SAFETY_ALARM_MS).
 */
const IDLE_DISARM_MS = 500;

/** Records in one gathered write at most: one D1 batch call of the store's putActivations. */
const MAX_GATHERED_RECORDS = 50;
/**
 * The D1 writes of every outbox in this isolate, gathered: there is one
 * invoker object per action, and when each gathered only its own batches,
 * 100 busy actions' outboxes each wrote about one record per D1 call where
 * one busy action's wrote ten. Flushes of any objects that come within
 * FLUSH_DELAY_MS of the first, or while a write is in flight, go in one
 * write. Each object still deletes its stored batches only once the write
 * that carried them has succeeded.
 */
const recordWrites = new GroupCommit<ActivationRecord>(MAX_GATHERED_RECORDS, { gatherMs: FLUSH_DELAY_MS });

export class ActivationOutbox {
  private flushing: Promise<void> | undefined;
  private again = false;
  private batch: ActivationRecord[] = [];
  private batchBytes = 0;
  private batchStored: Promise<void> | undefined;
  private resolveBatch: (() => void) | undefined;
  private batches = 0;
  private alarmArmed = false;
  /** The idle check's timer, while one is pending. */
  private idleCheck: ReturnType<typeof setTimeout> | undefined;
  /** Stored batches D1 has, to delete with the next write or once idle. */
  private written: string[] = [];
  /**
   * The batches this object sealed and has not written to the store yet,
   * by storage key: the flush that follows takes them from here instead of
   * reading storage back. Dropped (and storage read instead) after a failed
   * write or past MAX_SEALED_BYTES; kept again from the next flush that
   * reads storage.
   */
  private sealed: Map<string, { records: ActivationRecord[]; bytes: number }> | undefined = new Map();
  private sealedBytes = 0;

  /**
   * `inFlight`: how many activations of this object have started and not
   * ended; a record whose activation is the only one seals at once instead of
   * waiting a 0 ms timer for others that end together with it.
   */
  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly store: Store,
    private readonly inFlight: () => number = () => Infinity,
  ) {}

  /** `resultBytes`: the UTF-8 size of the result's JSON when the caller has measured it (it spares serialising the result again). */
  async add(record: ActivationRecord, resultBytes?: number): Promise<void> {
    const size = approximateSize(record, resultBytes);
    if (size > MAX_BATCH_BYTES) {
      await this.store.putActivation(record);
      return;
    }
    if (this.batchBytes + size > MAX_BATCH_BYTES) this.sealBatch();
    // Every activation of this object that has not ended has a record in this batch (its own among them).
    const alone = this.inFlight() <= this.batch.length + 1;
    this.batch.push(record);
    this.batchBytes += size;
    this.batchStored ??= new Promise<void>((resolve) => {
      this.resolveBatch = resolve;
      // A timer costs a warm invoke's object more than the microtask does (a CPU profile, November 2026).
      if (alone) queueMicrotask(() => this.sealBatch());
      else setTimeout(() => this.sealBatch(), 0);
    });
    return this.batchStored;
  }

  /** Stores the records gathered so far as one storage value and releases their callers. */
  private sealBatch(): void {
    if (this.batch.length === 0) return;
    const records = this.batch;
    const bytes = this.batchBytes;
    const resolve = this.resolveBatch;
    this.batch = [];
    this.batchBytes = 0;
    this.batchStored = undefined;
    this.resolveBatch = undefined;
    const key = `${PREFIX}${Date.now()}-${this.batches++}`;
    // In the same turn as the put, so that one commit carries both.
    this.deleteWritten();
    this.storage.kv.put(key, records);
    this.keepSealed(key, records, bytes);
    if (!this.alarmArmed) {
      this.alarmArmed = true;
      void this.storage.setAlarm(Date.now() + SAFETY_ALARM_MS);
    }
    resolve?.();
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushing) {
      this.again = true;
      return;
    }
    // The shared writes pause (FLUSH_DELAY_MS) to gather the records of busy moments into one D1 batch.
    this.flushing = Promise.resolve()
      .then(() => this.flushSealed())
      .catch(async (err) => {
        console.error("activation outbox flush failed, retrying by alarm:", err);
        await this.storage.setAlarm(Date.now() + RETRY_MS);
      })
      .finally(() => {
        this.flushing = undefined;
        if (this.again) {
          this.again = false;
          this.scheduleFlush();
        }
      });
  }

  /** The object's alarm: write what is pending; the next sealed batch arms it again. */
  async onAlarm(): Promise<void> {
    this.alarmArmed = false;
    await this.flush();
  }

  /** Writes every pending record to the store; safe to repeat (records are keyed by id). */
  async flush(): Promise<void> {
    // Batches sealed from here on are kept in memory again; what storage holds now is written here.
    if (!this.sealed) {
      this.sealed = new Map();
      this.sealedBytes = 0;
    }
    this.deleteWritten();
    await this.write([...this.storage.kv.list<ActivationRecord[]>({ prefix: PREFIX })]);
    // Rare (an alarm, a restart): nothing to share a commit with.
    this.deleteWritten();
  }

  /** Writes the batches this object sealed, from memory (or from storage when it stopped keeping them). */
  private async flushSealed(): Promise<void> {
    if (!this.sealed) return this.flush();
    await this.write([...this.sealed].map(([key, { records }]) => [key, records]));
  }

  private async write(pending: [string, ActivationRecord[]][]): Promise<void> {
    if (pending.length === 0) return;
    try {
      const records = pending.flatMap(([, batch]) => batch);
      await recordWrites.add(records, async (gathered) => {
        await this.store.putActivations(gathered);
      });
    } catch (err) {
      // Storage keeps what was not written; the next flush reads it back rather than trust memory to hold it all.
      this.sealed = undefined;
      this.sealedBytes = 0;
      throw err;
    }
    for (const [key] of pending) {
      this.written.push(key);
      this.forgetSealed(key);
    }
    this.settleWhenIdle();
  }

  private deleteWritten(): void {
    for (const key of this.written) this.storage.kv.delete(key);
    this.written = [];
  }

  /**
   * Once this object has sealed nothing for IDLE_DISARM_MS, deletes the
   * batches D1 has from storage and cancels the safety alarm, if what it
   * sealed is all written (nothing gathers): an invoker whose activations
   * came seconds apart otherwise woke for an alarm after each of them, and
   * an alarm set and fired costs about ten times a storage put
   * (bench/stage-costs.mjs). A busy object keeps its alarm (it fires every
   * SAFETY_ALARM_MS), as a set and a delete per flush would cost more than
   * that. Only while it keeps its sealed batches in memory does it know that
   * storage holds no other. One timer at a time, looked at again while the
   * object stays busy, rather than one set and cleared per write.
   */
  private settleWhenIdle(): void {
    if (this.idleCheck) return;
    const sealedAt = this.batches;
    this.idleCheck = setTimeout(() => {
      this.idleCheck = undefined;
      if (this.batches !== sealedAt) return this.settleWhenIdle();
      const idle = this.sealed?.size === 0 && this.batch.length === 0;
      if (!idle) return;
      this.deleteWritten();
      if (!this.alarmArmed) return;
      this.alarmArmed = false;
      void this.storage.deleteAlarm();
    }, IDLE_DISARM_MS);
  }

  private keepSealed(key: string, records: ActivationRecord[], bytes: number): void {
    if (!this.sealed) return;
    if (this.sealedBytes + bytes > MAX_SEALED_BYTES) {
      // Storage holds them all; the next flush reads it.
      this.sealed = undefined;
      this.sealedBytes = 0;
      return;
    }
    this.sealed.set(key, { records, bytes });
    this.sealedBytes += bytes;
  }

  private forgetSealed(key: string): void {
    const batch = this.sealed?.get(key);
    if (!batch) return;
    this.sealed!.delete(key);
    this.sealedBytes -= batch.bytes;
  }
}

/**
 * An upper bound of a record's stored size that avoids serializing the whole
 * record: 3 bytes for every UTF-16 unit (or UTF-8 byte, which is never fewer)
 * of the result's JSON.
 */
function approximateSize(record: ActivationRecord, resultBytes?: number): number {
  let size = 2_000 + (resultBytes ?? JSON.stringify(record.response.result ?? null).length) * 3;
  for (const line of record.logs) size += line.length * 3 + 4;
  for (const kv of record.annotations) size += 64 + (typeof kv.value === "string" ? kv.value.length * 3 : 256);
  return size;
}
