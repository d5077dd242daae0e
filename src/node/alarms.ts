// The AlarmService port on Kubernetes: alarms live in PostgreSQL (table
// node_alarms), and the controller holding the scheduler's lock fires those
// that come due (alarm-scheduler.ts). The life of an alarm is the one the
// Cloudflare alarm Durable Object gives it: failed fires are retried with
// backoff, then recorded as a failed trigger activation; fires missed while
// paused are not replayed; a once alarm may delete its trigger after firing.
import type pg from "pg";
import type { AlarmSchedule } from "../core/alarms.js";
import { qualifiedName, type EntityRef } from "../core/names.js";
import { armed as arm, deleteFiredTrigger, fireAlarm, recordFailedAlarm, type AlarmFireDeps, type StoredAlarm } from "../invoker/alarm-fire.js";
import type { AlarmService, AlarmState, Identity } from "../ports.js";

const MAX_ATTEMPTS = 5;

export class PostgresAlarms implements AlarmService {
  constructor(private readonly pool: pg.Pool) {}

  private async load(trigger: EntityRef): Promise<StoredAlarm | undefined> {
    const { rows } = await this.pool.query<{ state: string }>("SELECT state FROM node_alarms WHERE trigger_key = $1", [
      qualifiedName(trigger),
    ]);
    return rows[0] && (JSON.parse(rows[0].state) as StoredAlarm);
  }

  private async save(state: StoredAlarm): Promise<void> {
    await this.pool.query(
      `INSERT INTO node_alarms (trigger_key, state, next_fire) VALUES ($1, $2, $3)
       ON CONFLICT (trigger_key) DO UPDATE SET state = excluded.state, next_fire = excluded.next_fire`,
      [qualifiedName(state.trigger), JSON.stringify(state), state.due ?? null],
    );
  }

  async create(trigger: EntityRef, owner: Identity, schedule: AlarmSchedule, apiHost: string): Promise<void> {
    const now = Date.now();
    await this.save(arm({ trigger, owner, apiHost, schedule, active: true, dateChanged: now, attempts: 0 }, now));
  }

  async read(trigger: EntityRef): Promise<AlarmState | undefined> {
    const state = await this.load(trigger);
    if (!state) return undefined;
    return { schedule: state.schedule, active: state.active, dateChanged: state.dateChanged, nextFire: state.due };
  }

  async update(trigger: EntityRef, schedule: AlarmSchedule): Promise<boolean> {
    const state = await this.load(trigger);
    if (!state) return false;
    await this.save(arm({ ...state, schedule }, Date.now()));
    return true;
  }

  async setActive(trigger: EntityRef, active: boolean): Promise<boolean> {
    const state = await this.load(trigger);
    if (!state) return false;
    const changed = state.active !== active ? { active, dateChanged: Date.now() } : {};
    // Resuming starts from now: fires missed while paused are not replayed.
    await this.save(arm({ ...state, ...changed }, Date.now()));
    return true;
  }

  async delete(trigger: EntityRef): Promise<boolean> {
    const { rowCount } = await this.pool.query("DELETE FROM node_alarms WHERE trigger_key = $1", [qualifiedName(trigger)]);
    return (rowCount ?? 0) > 0;
  }

  /** Fires every alarm due by `now`, one after another; answers how many it fired. */
  async fireDue(deps: AlarmFireDeps, now = Date.now()): Promise<number> {
    const { rows } = await this.pool.query<{ state: string }>(
      "SELECT state FROM node_alarms WHERE next_fire <= $1 ORDER BY next_fire LIMIT 100",
      [now],
    );
    for (const row of rows) await this.fire(deps, row.state);
    return rows.length;
  }

  private async fire(deps: AlarmFireDeps, text: string): Promise<void> {
    const state = JSON.parse(text) as StoredAlarm;
    if (!state.active || state.due === undefined) return;
    const outcome = await fireAlarm(deps, state.trigger, state.owner, state.schedule.payload, state.apiHost);
    let next: StoredAlarm | undefined;
    if (outcome.kind === "orphaned") {
      next = arm({ ...state, active: false, dateChanged: Date.now() }, Date.now());
    } else if (outcome.kind === "failed" && state.attempts + 1 < MAX_ATTEMPTS) {
      const attempts = state.attempts + 1;
      await this.replace(text, { ...state, attempts }, Date.now() + Math.min(60_000, 1_000 * 2 ** attempts));
      return;
    } else {
      if (outcome.kind === "failed") await recordFailedAlarm(deps.store, state.trigger, state.owner, outcome.error);
      const after = state.schedule.kind === "once" ? state.schedule.deleteAfterFire : undefined;
      if (outcome.kind === "fired" && (after === "true" || after === "rules")) {
        await deleteFiredTrigger(deps.store, state.trigger, after === "rules");
      } else {
        next = arm(state, Math.max(Date.now(), state.due));
      }
    }
    await this.replace(text, next, next?.due);
  }

  /**
   * Writes the alarm's next state unless the API changed it meanwhile (a
   * pause, an update or a delete during the fire wins); undefined deletes it.
   */
  private async replace(previous: string, state: StoredAlarm | undefined, nextFire: number | undefined): Promise<void> {
    const key = qualifiedName((JSON.parse(previous) as StoredAlarm).trigger);
    if (!state) {
      await this.pool.query("DELETE FROM node_alarms WHERE trigger_key = $1 AND state = $2", [key, previous]);
      return;
    }
    await this.pool.query("UPDATE node_alarms SET state = $3, next_fire = $4 WHERE trigger_key = $1 AND state = $2", [
      key,
      previous,
      JSON.stringify(state),
      nextFire ?? null,
    ]);
  }
}
