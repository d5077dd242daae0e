// The Durable Object that sweeps the dispatch journal (src/activation/journal.ts)
// on an alarm: first soon after a Worker isolate starts serving, then every
// few seconds while the journal is on. One object for the whole Worker, so
// sweeps never overlap.
import { DurableObject } from "cloudflare:workers";
import { sweepJournal, type SweepDeps } from "../activation/journal.js";
import { SqlStore } from "../store/sql-store.js";
import { D1Sql } from "./d1.js";
import type { Env } from "./env.js";
import { QueueDispatcher } from "./queue.js";
import { concurrencyGate } from "./throttle-do-client.js";

/** A short pause after start-up lets invoker objects flush the records they kept in their outboxes. */
const FIRST_SWEEP_DELAY_MS = 2_000;
const SWEEP_INTERVAL_MS = 5_000;

export function journalSweepDeps(env: Env, boot: string): SweepDeps {
  const store = new SqlStore(new D1Sql(env.DB));
  return { store, queue: new QueueDispatcher(env.ACTIVATIONS), boot, concurrency: concurrencyGate(env.THROTTLE, store) };
}

export function journalSweeper(env: Env): DurableObjectStub<JournalSweeper> {
  return env.JOURNAL_SWEEPER.get(env.JOURNAL_SWEEPER.idFromName("journal"));
}

export class JournalSweeper extends DurableObject<Env> {
  /** Schedules a sweep unless one is already due. */
  async start(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + FIRST_SWEEP_DELAY_MS);
  }

  override async alarm(): Promise<void> {
    const boot = this.env.DISPATCH_JOURNAL;
    if (!boot) return; // the journal is off: nothing to sweep, no further alarm
    try {
      const report = await sweepJournal(journalSweepDeps(this.env, boot));
      if (report.requeued || report.failed) console.log(`dispatch journal: requeued ${report.requeued}, recorded ${report.failed} as failed`);
    } catch (err) {
      console.error("dispatch journal sweep failed, trying again:", err);
    }
    await this.ctx.storage.setAlarm(Date.now() + SWEEP_INTERVAL_MS);
  }
}
