// The /whisk.system/alarms feeds: validating their parameters (with the
// stock alarms package's messages) and computing when a schedule fires next.
// Cron parsing is croner's.
import { Cron } from "croner";
import { WhiskError } from "./errors.js";

export type AlarmKind = "alarm" | "once" | "interval";

export interface AlarmSchedule {
  kind: AlarmKind;
  /** alarm: 5 fields, or 6 with seconds first. */
  cron?: string;
  timezone?: string;
  /** once: when to fire (ISO text as given). */
  date?: string;
  deleteAfterFire?: "false" | "true" | "rules";
  /** interval: fire every this many minutes from startDate. */
  minutes?: number;
  startDate?: string | number;
  stopDate?: string | number;
  payload: Record<string, unknown>;
}

const fail = (message: string) => new WhiskError(400, message);

function validDate(value: unknown, name: string, now: number, after?: string | number): string | number {
  const date = new Date(value as string | number);
  if (value === undefined || value === null || isNaN(date.getTime())) {
    throw fail(`${name} parameter '${String(value)}' is not a valid Date`);
  }
  if (date.getTime() <= now) throw fail(`${name} parameter '${String(value)}' must be in the future`);
  if (after !== undefined && date.getTime() <= new Date(after).getTime()) {
    throw fail(`${name} parameter '${String(value)}' must be greater than the startDate parameter '${String(after)}'`);
  }
  return value as string | number;
}

function cronOf(pattern: string, timezone?: string): Cron {
  const fields = pattern.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) throw fail(`cron pattern '${pattern}' is not valid`);
  try {
    const cron = new Cron(pattern, { paused: true, ...(timezone ? { timezone } : {}) });
    cron.nextRun();
    return cron;
  } catch (err) {
    if (timezone && /timezone/i.test((err as Error).message)) throw fail("Invalid timezone.");
    throw fail(`cron pattern '${pattern}' is not valid`);
  }
}

function payloadOf(value: unknown): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value === "string") {
    try {
      const parsed: unknown = JSON.parse(value);
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // a plain string payload
    }
    return { payload: value };
  }
  if (typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
  return { payload: value };
}

/** Validates a feed's CREATE parameters into a schedule. */
export function parseAlarmSchedule(kind: AlarmKind, params: Record<string, unknown>, now: number): AlarmSchedule {
  const payload = payloadOf(params.trigger_payload);
  if (kind === "once") {
    if (!params.date) throw fail("alarms once trigger feed is missing the date parameter");
    const date = validDate(params.date, "date", now);
    const schedule: AlarmSchedule = { kind, date: String(date), payload };
    if (params.deleteAfterFire !== undefined && params.deleteAfterFire !== false) {
      const value = String(params.deleteAfterFire).trim().toLowerCase();
      if (value !== "false" && value !== "true" && value !== "rules") {
        throw fail("deleteAfterFire parameter must be one of [false, true, rules].");
      }
      schedule.deleteAfterFire = value;
    }
    return schedule;
  }

  const schedule: AlarmSchedule = { kind, payload };
  if (kind === "interval") {
    if (!params.minutes) throw fail("interval trigger feed is missing the minutes parameter");
    const minutes = Number(params.minutes);
    if (!Number.isInteger(minutes)) throw fail("the minutes parameter must be an integer");
    if (minutes <= 0) throw fail("the minutes parameter must be an integer greater than zero");
    schedule.minutes = minutes;
  } else {
    if (!params.cron) throw fail("alarms trigger feed is missing the cron parameter");
    const timezone = typeof params.timezone === "string" && params.timezone ? params.timezone : undefined;
    cronOf(String(params.cron), timezone);
    schedule.cron = String(params.cron);
    if (timezone) schedule.timezone = timezone;
  }
  if (params.startDate !== undefined) schedule.startDate = validDate(params.startDate, "startDate", now);
  else if (kind === "interval") schedule.startDate = now + 30_000;
  if (params.stopDate !== undefined) {
    schedule.stopDate = validDate(params.stopDate, "stopDate", now, schedule.startDate);
    const first = nextFireAfter(schedule, now);
    if (first === undefined) throw fail("the first scheduled trigger fire is not until after the stop date");
  }
  return schedule;
}

/** Applies UPDATE parameters to a schedule (the stock package's updatable fields). */
export function updateAlarmSchedule(schedule: AlarmSchedule, params: Record<string, unknown>, now: number): AlarmSchedule {
  const updatable = ["cron", "timezone", "date", "deleteAfterFire", "minutes", "startDate", "stopDate", "trigger_payload"];
  if (!updatable.some((key) => params[key] !== undefined)) throw fail("no updatable parameters were specified");
  const merged: Record<string, unknown> = {
    cron: schedule.cron,
    timezone: schedule.timezone,
    date: schedule.date,
    deleteAfterFire: schedule.deleteAfterFire,
    minutes: schedule.minutes,
    startDate: schedule.startDate,
    stopDate: schedule.stopDate,
    trigger_payload: schedule.payload,
  };
  for (const key of updatable) if (params[key] !== undefined) merged[key] = params[key];
  // Dates already in the past stay as they are; only newly given ones must lie ahead.
  if (params.startDate === undefined) delete merged.startDate;
  if (params.stopDate === undefined) delete merged.stopDate;
  const updated = parseAlarmSchedule(schedule.kind, merged, now);
  if (params.startDate === undefined && schedule.startDate !== undefined) updated.startDate = schedule.startDate;
  if (params.stopDate === undefined && schedule.stopDate !== undefined) updated.stopDate = schedule.stopDate;
  return updated;
}

/** Epoch ms of the first fire strictly after `after`, or undefined when the schedule is over. */
export function nextFireAfter(schedule: AlarmSchedule, after: number): number | undefined {
  const start = schedule.startDate !== undefined ? new Date(schedule.startDate).getTime() : undefined;
  const stop = schedule.stopDate !== undefined ? new Date(schedule.stopDate).getTime() : undefined;
  let next: number | undefined;
  if (schedule.kind === "once") {
    const at = new Date(schedule.date!).getTime();
    next = at > after ? at : undefined;
  } else if (schedule.kind === "interval") {
    const period = schedule.minutes! * 60_000;
    const origin = start ?? after;
    next = after < origin ? origin : origin + (Math.floor((after - origin) / period) + 1) * period;
  } else {
    const from = Math.max(after, (start ?? after) - 1);
    const cron = cronOf(schedule.cron!, schedule.timezone);
    next = cron.nextRun(new Date(from))?.getTime();
  }
  if (next === undefined || (stop !== undefined && next > stop)) return undefined;
  return next;
}
