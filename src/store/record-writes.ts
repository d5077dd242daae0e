// Activation records written as they end, concurrent ones together: one
// store call (a few multi-row inserts) for the records that end while a
// write is in flight, instead of a round trip and a commit each. Each
// caller still learns whether its own record was stored now or was there
// already (a repeated delivery). For hosts where a caller may await a write
// another caller started (the Node invoker); the invoker object on
// Cloudflare writes behind through its outbox instead.
import type { ActivationRecord } from "../core/activation.js";
import { GroupCommit } from "../core/group-commit.js";
import type { Store } from "../ports/store.js";

/** Records in one store call at most. */
const MAX_RECORDS_PER_WRITE = 48;

export class RecordWrites {
  private readonly commits = new GroupCommit<ActivationRecord>(MAX_RECORDS_PER_WRITE, { awaitWrites: true });
  /** What the write that carried a record answered for it, until its caller reads it. */
  private readonly answers = new Map<ActivationRecord, boolean>();

  constructor(private readonly store: Pick<Store, "putActivations">) {}

  /** Stores `record`: false when a record with its id was there already. */
  async put(record: ActivationRecord): Promise<boolean> {
    try {
      await this.commits.add([record], async (batch) => {
        const stored = await this.store.putActivations(batch);
        batch.forEach((written, at) => this.answers.set(written, stored[at] === true));
      });
      return this.answers.get(record) === true;
    } finally {
      this.answers.delete(record);
    }
  }
}
