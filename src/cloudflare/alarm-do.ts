// One Durable Object per trigger made with /whisk.system/alarms: it keeps the
// alarm in its own storage (so it survives restarts) and its alarm() fires
// the trigger on time. The life of an alarm (retries with backoff, recorded
// failures, fires missed while paused not replayed, deleteAfterFire) is
// core/alarm-lifecycle.ts, the same as on Node; this object only stores its
// steps and sets its storage alarm to the time they name.
import { DurableObject } from "cloudflare:workers";
import { alarmStatus, isDue, newAlarm, nextAlarmState, rescheduled, withActive, type StoredAlarm } from "../core/alarm-lifecycle.js";
import type { AlarmSchedule } from "../core/alarm-schedule.js";
import type { EntityRef } from "../core/names.js";
import { deleteFiredTrigger, fireAlarm, recordFailedAlarm } from "../activation/alarm-fire.js";
import type { AlarmState } from "../ports/alarm-service.js";
import type { Identity } from "../ports/identity.js";
import { SqlStore } from "../store/sql-store.js";
import { D1Sql } from "./d1.js";
import type { Env } from "./env.js";
import { dispatcherFor } from "./queue.js";
import { rateGate } from "./throttle-do-client.js";

const STATE = "state";

type HostedAlarm = StoredAlarm<Identity>;

export class AlarmFeed extends DurableObject<Env> {
  private load(): HostedAlarm | undefined {
    return this.ctx.storage.kv.get<HostedAlarm>(STATE);
  }

  /** Keeps `state` and wakes at `wakeAt` (never, when undefined). */
  private async keep(state: HostedAlarm, wakeAt: number | undefined): Promise<void> {
    this.ctx.storage.kv.put(STATE, state);
    if (wakeAt === undefined) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(wakeAt);
  }

  async create(trigger: EntityRef, owner: Identity, schedule: AlarmSchedule, apiHost: string): Promise<void> {
    const state = newAlarm(trigger, owner, schedule, apiHost, Date.now());
    await this.keep(state, state.due);
  }

  read(): AlarmState | undefined {
    const state = this.load();
    return state && alarmStatus(state);
  }

  async update(schedule: AlarmSchedule): Promise<boolean> {
    const state = this.load();
    if (!state) return false;
    const next = rescheduled(state, schedule, Date.now());
    await this.keep(next, next.due);
    return true;
  }

  async setActive(active: boolean): Promise<boolean> {
    const state = this.load();
    if (!state) return false;
    const next = withActive(state, active, Date.now());
    await this.keep(next, next.due);
    return true;
  }

  async delete(): Promise<boolean> {
    const existed = this.load() !== undefined;
    await this.ctx.storage.deleteAlarm();
    this.ctx.storage.kv.delete(STATE);
    return existed;
  }

  override async alarm(): Promise<void> {
    const state = this.load();
    if (!state || !isDue(state)) return;
    const version = JSON.stringify(state);
    const store = new SqlStore(new D1Sql(this.env.DB));
    const deps = { store, dispatcher: dispatcherFor(this.env, store), throttle: rateGate(this.env.THROTTLE, store) };
    const outcome = await fireAlarm(deps, state.trigger, state.owner, state.schedule.payload, state.apiHost);
    const step = nextAlarmState(state, outcome, Date.now());
    if (step.kind === "give-up") await recordFailedAlarm(store, state.trigger, state.owner, step.error);
    if (step.kind === "delete") await deleteFiredTrigger(store, state.trigger, step.withRules);
    // Requests reach the object while it fires: a pause, an update or a delete made meanwhile wins.
    if (JSON.stringify(this.load()) !== version) return;
    if (step.kind === "delete") await this.delete();
    else await this.keep(step.state, step.wakeAt);
  }
}
