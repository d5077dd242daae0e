// The life of one /whisk.system/alarms alarm, the same on every host: what a
// host keeps for it, how the feed's lifecycle events change it, and what
// follows a fire attempt (orphaned → deactivate; failed → back off and retry,
// then record the failure and go on; a fired once alarm with deleteAfterFire
// → delete; otherwise re-arm for the next fire). Pure: the Cloudflare alarm
// Durable Object and the Node scheduler only persist the state it answers and
// arm their timer for the time it names.
import { nextFireAfter, type AlarmSchedule } from "./alarm-schedule.js";
import type { EntityRef } from "./names.js";

/** Attempts at one due fire before it is given up and recorded as a failed trigger activation. */
export const MAX_ATTEMPTS = 5;

/** How long to wait after the `attempts`-th failed attempt before the next: 2 s, 4 s, 8 s, … at most a minute. */
export function retryDelay(attempts: number): number {
  return Math.min(60_000, 1_000 * 2 ** attempts);
}

/**
 * What a host keeps for one alarm (Durable Object storage, a PostgreSQL row).
 * `Owner` is the identity it fires as: the ports' `Identity`, which core does
 * not import.
 */
export interface StoredAlarm<Owner = unknown> {
  trigger: EntityRef;
  owner: Owner;
  apiHost: string;
  schedule: AlarmSchedule;
  active: boolean;
  /** Epoch ms of the last pause or resume (or the creation). */
  dateChanged: number;
  /** The fire being attempted (epoch ms), kept across retries; none when paused or the schedule is over. */
  due?: number;
  /** Failed attempts at `due` so far. */
  attempts: number;
}

/** The alarm with its next fire after `after` (none when paused or the schedule is over), no attempts made. */
export function armed<S extends StoredAlarm>(state: S, after: number): S {
  return { ...state, due: state.active ? nextFireAfter(state.schedule, after) : undefined, attempts: 0 };
}

/** A feed's CREATE: active from `now`. */
export function newAlarm<Owner>(
  trigger: EntityRef,
  owner: Owner,
  schedule: AlarmSchedule,
  apiHost: string,
  now: number,
): StoredAlarm<Owner> {
  return armed({ trigger, owner, apiHost, schedule, active: true, dateChanged: now, attempts: 0 }, now);
}

/** A feed's UPDATE: the new schedule, armed from `now`. */
export function rescheduled<S extends StoredAlarm>(state: S, schedule: AlarmSchedule, now: number): S {
  return armed({ ...state, schedule }, now);
}

/** A feed's PAUSE or UNPAUSE. Resuming arms from `now`: fires missed while paused are not replayed. */
export function withActive<S extends StoredAlarm>(state: S, active: boolean, now: number): S {
  const changed = state.active !== active ? { active, dateChanged: now } : {};
  return armed({ ...state, ...changed }, now);
}

/** The alarm as the feed's READ reports it (the ports' `AlarmState`). */
export function alarmStatus(state: StoredAlarm): {
  schedule: AlarmSchedule;
  active: boolean;
  dateChanged: number;
  nextFire: number | undefined;
} {
  return { schedule: state.schedule, active: state.active, dateChanged: state.dateChanged, nextFire: state.due };
}

/** Whether a woken alarm should fire: a paused or finished one only woke because its timer outlived it. */
export function isDue(state: StoredAlarm): state is StoredAlarm & { due: number } {
  return state.active && state.due !== undefined;
}

/** What came of one attempt at firing the trigger (invoker/alarm-fire.ts answers a superset). */
export type FireAttempt = { kind: "fired" } | { kind: "orphaned" } | { kind: "failed"; error: string };

/**
 * What the host must do after an attempt: keep `state` and wake at `wakeAt`
 * (never, when undefined), or forget the alarm. A "give-up" step first
 * records `error` as a failed trigger activation; a "delete" step first
 * deletes the trigger (with its rules when `withRules`).
 */
export type AlarmStep<S> =
  /** The trigger or its owner's key is gone: the alarm stays, paused. */
  | { kind: "deactivate"; state: S; wakeAt: undefined }
  /** The attempt failed and attempts are left: try the same fire again after a backoff. */
  | { kind: "retry"; state: S; wakeAt: number }
  /** The last attempt failed: record it, then go on to the next fire. */
  | { kind: "give-up"; error: string; state: S; wakeAt: number | undefined }
  /** Fired: on to the next fire (none once a schedule is over). */
  | { kind: "rearm"; state: S; wakeAt: number | undefined }
  /** A once alarm with deleteAfterFire fired: delete its trigger, forget the alarm. */
  | { kind: "delete"; withRules: boolean };

/** The step after attempting the fire `state.due` at `now` (`state` being due: see `isDue`). */
export function nextAlarmState<S extends StoredAlarm>(state: S, attempt: FireAttempt, now: number): AlarmStep<S> {
  if (attempt.kind === "orphaned") {
    const next = armed({ ...state, active: false, dateChanged: now }, now);
    return { kind: "deactivate", state: next, wakeAt: undefined };
  }
  if (attempt.kind === "failed" && state.attempts + 1 < MAX_ATTEMPTS) {
    const attempts = state.attempts + 1;
    return { kind: "retry", state: { ...state, attempts }, wakeAt: now + retryDelay(attempts) };
  }
  const next = armed(state, Math.max(now, state.due ?? now));
  if (attempt.kind === "failed") return { kind: "give-up", error: attempt.error, state: next, wakeAt: next.due };
  const { kind, deleteAfterFire } = state.schedule;
  if (kind === "once" && (deleteAfterFire === "true" || deleteAfterFire === "rules")) {
    return { kind: "delete", withRules: deleteAfterFire === "rules" };
  }
  return { kind: "rearm", state: next, wakeAt: next.due };
}
