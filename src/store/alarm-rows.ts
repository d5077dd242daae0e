// The SQL of the Node host's alarms: table node_alarms (src/node/migrations/
// 0001_alarms.sql), one row per alarm with its state as JSON and when it
// next wakes, and the advisory lock that makes one controller the alarm
// scheduler. Cloudflare keeps the same state in alarm Durable Objects.
import type { StoredAlarm } from "../core/alarm-lifecycle.js";
import { qualifiedName, type EntityRef } from "../core/names.js";
import type { Identity } from "../ports/identity.js";
import type { SqlDatabase } from "../ports/sql-database.js";

export type HostedAlarm = StoredAlarm<Identity>;

/** An alarm as read for a fire, with the text it was stored as: the version a later write is conditional on. */
export interface AlarmRow {
  alarm: HostedAlarm;
  version: string;
}

export class AlarmRows {
  constructor(private readonly db: SqlDatabase) {}

  async find(trigger: EntityRef): Promise<HostedAlarm | undefined> {
    const rows = await this.db.all<{ state: string }>("SELECT state FROM node_alarms WHERE trigger_key = ?", [qualifiedName(trigger)]);
    return rows[0] && (JSON.parse(rows[0].state) as HostedAlarm);
  }

  /** Creates or replaces the alarm, to wake at `wakeAt` (never, when undefined). */
  async save(alarm: HostedAlarm, wakeAt: number | undefined): Promise<void> {
    await this.db.run(
      `INSERT INTO node_alarms (trigger_key, state, next_fire) VALUES (?, ?, ?)
       ON CONFLICT (trigger_key) DO UPDATE SET state = excluded.state, next_fire = excluded.next_fire`,
      [qualifiedName(alarm.trigger), JSON.stringify(alarm), wakeAt ?? null],
    );
  }

  /** Forgets the alarm; true when there was one. */
  async remove(trigger: EntityRef): Promise<boolean> {
    const { changes } = await this.db.run("DELETE FROM node_alarms WHERE trigger_key = ?", [qualifiedName(trigger)]);
    return changes > 0;
  }

  /** Up to `limit` alarms whose wake time is `now` or earlier, earliest first. */
  async dueBy(now: number, limit: number): Promise<AlarmRow[]> {
    const rows = await this.db.all<{ state: string }>(
      "SELECT state FROM node_alarms WHERE next_fire <= ? ORDER BY next_fire LIMIT ?",
      [now, limit],
    );
    return rows.map((row) => ({ alarm: JSON.parse(row.state) as HostedAlarm, version: row.state }));
  }

  /**
   * Writes `next` to wake at `wakeAt`, or forgets the alarm when `next` is
   * undefined, unless the row changed since `row` was read (a pause, an
   * update or a delete through the API meanwhile wins); true when it wrote.
   */
  async replace(row: AlarmRow, next: HostedAlarm | undefined, wakeAt: number | undefined): Promise<boolean> {
    const key = qualifiedName(row.alarm.trigger);
    const { changes } = next
      ? await this.db.run("UPDATE node_alarms SET state = ?, next_fire = ? WHERE trigger_key = ? AND state = ?", [
          JSON.stringify(next),
          wakeAt ?? null,
          key,
          row.version,
        ])
      : await this.db.run("DELETE FROM node_alarms WHERE trigger_key = ? AND state = ?", [key, row.version]);
    return changes > 0;
  }
}

/** A database session of its own (a pg PoolClient): a PostgreSQL advisory lock belongs to the session that took it. */
export interface SqlSession {
  query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
}

/** Any fixed 64-bit number, distinct from the migration lock. */
const SCHEDULER_LOCK = 0x6564_6765_616c; // "edgeal"

/**
 * The alarm scheduler's lock (PostgreSQL only: SQLite has no advisory
 * locks). Takes it for `session` unless another session holds it; true
 * when `session` holds it now.
 */
export async function takeSchedulerLock(session: SqlSession): Promise<boolean> {
  const { rows } = await session.query("SELECT pg_try_advisory_lock($1) AS taken", [SCHEDULER_LOCK]);
  return (rows[0] as { taken: boolean }).taken;
}

/** Throws unless `session` still reaches the database (and so still holds any lock it took). */
export async function checkSession(session: SqlSession): Promise<void> {
  await session.query("SELECT 1");
}
