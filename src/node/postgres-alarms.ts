// The AlarmService port on Kubernetes: alarms live in PostgreSQL (table
// node_alarms, through src/store/alarm-rows.ts), and the controller holding
// the scheduler's lock fires those that come due (alarm-scheduler.ts). The
// life of an alarm is core/alarm-lifecycle.ts, the same as on Cloudflare;
// this adapter only persists its steps.
import type pg from "pg";
import { alarmStatus, isDue, newAlarm, nextAlarmState, rescheduled, withActive } from "../core/alarm-lifecycle.js";
import type { AlarmSchedule } from "../core/alarm-schedule.js";
import type { EntityRef } from "../core/names.js";
import { deleteFiredTrigger, fireAlarm, recordFailedAlarm, type AlarmFireDeps } from "../activation/alarm-fire.js";
import type { AlarmService, AlarmState } from "../ports/alarm-service.js";
import type { Identity } from "../ports/identity.js";
import { AlarmRows, type AlarmRow, type HostedAlarm } from "../store/alarm-rows.js";
import { PostgresSql } from "./postgres.js";

/** Alarms fired per scheduler pass at most; the rest wait for the next tick. */
const FIRES_PER_PASS = 100;

export class PostgresAlarms implements AlarmService {
  private readonly rows: AlarmRows;

  constructor(pool: pg.Pool) {
    this.rows = new AlarmRows(new PostgresSql(pool));
  }

  private save(alarm: HostedAlarm): Promise<void> {
    return this.rows.save(alarm, alarm.due);
  }

  async create(trigger: EntityRef, owner: Identity, schedule: AlarmSchedule, apiHost: string): Promise<void> {
    await this.save(newAlarm(trigger, owner, schedule, apiHost, Date.now()));
  }

  async read(trigger: EntityRef): Promise<AlarmState | undefined> {
    const alarm = await this.rows.find(trigger);
    return alarm && alarmStatus(alarm);
  }

  async update(trigger: EntityRef, schedule: AlarmSchedule): Promise<boolean> {
    const alarm = await this.rows.find(trigger);
    if (!alarm) return false;
    await this.save(rescheduled(alarm, schedule, Date.now()));
    return true;
  }

  async setActive(trigger: EntityRef, active: boolean): Promise<boolean> {
    const alarm = await this.rows.find(trigger);
    if (!alarm) return false;
    await this.save(withActive(alarm, active, Date.now()));
    return true;
  }

  delete(trigger: EntityRef): Promise<boolean> {
    return this.rows.remove(trigger);
  }

  /** Fires every alarm due by `now`, one after another; answers how many it fired. */
  async fireDue(deps: AlarmFireDeps, now = Date.now()): Promise<number> {
    const due = await this.rows.dueBy(now, FIRES_PER_PASS);
    for (const row of due) await this.fire(deps, row);
    return due.length;
  }

  private async fire(deps: AlarmFireDeps, row: AlarmRow): Promise<void> {
    const { alarm } = row;
    if (!isDue(alarm)) return;
    const outcome = await fireAlarm(deps, alarm.trigger, alarm.owner, alarm.schedule.payload, alarm.apiHost);
    const step = nextAlarmState(alarm, outcome, Date.now());
    if (step.kind === "give-up") await recordFailedAlarm(deps.store, alarm.trigger, alarm.owner, step.error);
    if (step.kind === "delete") {
      await deleteFiredTrigger(deps.store, alarm.trigger, step.withRules);
      await this.rows.replace(row, undefined, undefined);
    } else {
      await this.rows.replace(row, step.state, step.wakeAt);
    }
  }
}
