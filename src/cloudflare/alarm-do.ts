// One Durable Object per trigger made with /whisk.system/alarms: it keeps the
// schedule in its own storage (so it survives restarts) and its alarm()
// fires the trigger on time. Failed fires are retried with backoff and, if
// they keep failing, recorded as a failed trigger activation; fires missed
// while paused are not replayed.
import { DurableObject } from "cloudflare:workers";
import type { AlarmSchedule } from "../core/alarms.js";
import type { EntityRef } from "../core/names.js";
import { armed, deleteFiredTrigger, fireAlarm, recordFailedAlarm, type StoredAlarm } from "../invoker/alarm-fire.js";
import type { AlarmState, Identity } from "../ports.js";
import { SqlStore } from "../store/sql-store.js";
import { D1Sql } from "./d1.js";
import type { Env } from "./env.js";
import { QueueDispatcher } from "./queue.js";
import { rateGate } from "./throttle.js";

const STATE = "state";
const MAX_ATTEMPTS = 5;

export class AlarmFeed extends DurableObject<Env> {
  private load(): StoredAlarm | undefined {
    return this.ctx.storage.kv.get<StoredAlarm>(STATE);
  }

  private save(state: StoredAlarm): void {
    this.ctx.storage.kv.put(STATE, state);
  }

  /** Arms the storage alarm for the next fire after `after`, or disarms it when the schedule is over. */
  private async arm(state: StoredAlarm, after: number): Promise<void> {
    const next = armed(state, after);
    this.save(next);
    if (next.due === undefined) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(next.due);
  }

  async create(trigger: EntityRef, owner: Identity, schedule: AlarmSchedule, apiHost: string): Promise<void> {
    const state: StoredAlarm = { trigger, owner, apiHost, schedule, active: true, dateChanged: Date.now(), attempts: 0 };
    await this.arm(state, Date.now());
  }

  read(): AlarmState | undefined {
    const state = this.load();
    if (!state) return undefined;
    return { schedule: state.schedule, active: state.active, dateChanged: state.dateChanged, nextFire: state.due };
  }

  async update(schedule: AlarmSchedule): Promise<boolean> {
    const state = this.load();
    if (!state) return false;
    state.schedule = schedule;
    await this.arm(state, Date.now());
    return true;
  }

  async setActive(active: boolean): Promise<boolean> {
    const state = this.load();
    if (!state) return false;
    if (state.active !== active) {
      state.active = active;
      state.dateChanged = Date.now();
    }
    // Resuming starts from now: fires missed while paused are not replayed.
    await this.arm(state, Date.now());
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
    if (!state?.active || state.due === undefined) return;
    const store = new SqlStore(new D1Sql(this.env.DB));
    const deps = { store, dispatcher: new QueueDispatcher(this.env.ACTIVATIONS), throttle: rateGate(this.env.THROTTLE, store) };
    const outcome = await fireAlarm(deps, state.trigger, state.owner, state.schedule.payload, state.apiHost);
    if (outcome.kind === "orphaned") {
      state.active = false;
      state.dateChanged = Date.now();
      await this.arm(state, Date.now());
      return;
    }
    if (outcome.kind === "failed") {
      state.attempts += 1;
      if (state.attempts < MAX_ATTEMPTS) {
        this.save(state);
        await this.ctx.storage.setAlarm(Date.now() + Math.min(60_000, 1_000 * 2 ** state.attempts));
        return;
      }
      await recordFailedAlarm(deps.store, state.trigger, state.owner, outcome.error);
    }
    if (state.schedule.kind === "once") {
      const after = state.schedule.deleteAfterFire;
      if (outcome.kind === "fired" && (after === "true" || after === "rules")) {
        await deleteFiredTrigger(deps.store, state.trigger, after === "rules");
        await this.delete();
        return;
      }
    }
    await this.arm(state, Math.max(Date.now(), state.due));
  }
}
