// Write-behind for activation records in the invoker Durable Object. A
// record is first put in the object's own storage (local, fast, durable),
// which lets the caller have its answer at once; records then reach D1 in
// batches. An alarm retries whatever a failed or interrupted flush left, so
// no record is lost when D1 hiccups or the object is evicted.
import type { ActivationRecord } from "../core/activation.js";
import type { Store } from "../ports.js";

const PREFIX = "outbox:";
/** Durable Object storage values are capped near 2 MB; bigger records go straight to the store. */
const MAX_OUTBOX_BYTES = 1_000_000;
const RETRY_MS = 1_000;

export class ActivationOutbox {
  private flushing: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly store: Store,
  ) {}

  async add(record: ActivationRecord): Promise<void> {
    const json = JSON.stringify(record);
    if (json.length > MAX_OUTBOX_BYTES) {
      await this.store.putActivation(record);
      return;
    }
    this.storage.kv.put(PREFIX + record.activationId, json);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushing) {
      this.again = true;
      return;
    }
    this.flushing = this.flush()
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

  /** Writes every pending record to the store; safe to repeat (records are keyed by id). */
  async flush(): Promise<void> {
    const pending = [...this.storage.kv.list<string>({ prefix: PREFIX })];
    if (pending.length === 0) return;
    await this.store.putActivations(pending.map(([, json]) => JSON.parse(json) as ActivationRecord));
    for (const [key] of pending) this.storage.kv.delete(key);
  }
}
