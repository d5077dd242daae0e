// The alarm state machine both hosts persist: every transition after a fire
// attempt, and the feed lifecycle events that arm, pause and resume.
import { describe, expect, it } from "vitest";
import {
  alarmStatus,
  isDue,
  MAX_ATTEMPTS,
  newAlarm,
  nextAlarmState,
  rescheduled,
  retryDelay,
  withActive,
  type StoredAlarm,
} from "../../src/core/alarm-lifecycle.js";
import type { AlarmSchedule } from "../../src/core/alarm-schedule.js";

const T0 = Date.parse("2030-01-01T00:00:00Z");
const trigger = { namespace: "guest", name: "tick" };
const owner = { subject: "guest", namespace: "guest" };

const everyTenSeconds: AlarmSchedule = { kind: "alarm", cron: "*/10 * * * * *", timezone: "UTC", payload: { hello: 1 } };
const everyMinute: AlarmSchedule = { kind: "interval", minutes: 1, startDate: T0, payload: {} };
const once = (deleteAfterFire?: AlarmSchedule["deleteAfterFire"]): AlarmSchedule => ({
  kind: "once",
  date: new Date(T0 + 60_000).toISOString(),
  payload: {},
  ...(deleteAfterFire ? { deleteAfterFire } : {}),
});

/** An alarm created at T0 and woken for its first fire. */
function dueAlarm(schedule: AlarmSchedule): StoredAlarm<typeof owner> & { due: number } {
  const alarm = newAlarm(trigger, owner, schedule, "https://api.example", T0);
  if (!isDue(alarm)) throw new Error("the schedule has no first fire");
  return alarm;
}

const fired = { kind: "fired" } as const;
const failed = { kind: "failed", error: "queue unavailable" } as const;
const orphaned = { kind: "orphaned" } as const;

describe("the feed's lifecycle events", () => {
  it("creates an active alarm armed for its first fire", () => {
    const alarm = newAlarm(trigger, owner, everyTenSeconds, "https://api.example", T0 + 3_000);
    expect(alarm).toEqual({
      trigger,
      owner,
      apiHost: "https://api.example",
      schedule: everyTenSeconds,
      active: true,
      dateChanged: T0 + 3_000,
      due: T0 + 10_000,
      attempts: 0,
    });
    expect(isDue(alarm)).toBe(true);
  });

  it("pauses with nothing armed, and resumes from now without replaying missed fires", () => {
    const paused = withActive(dueAlarm(everyMinute), false, T0 + 5_000);
    expect(paused).toMatchObject({ active: false, dateChanged: T0 + 5_000, due: undefined });
    expect(isDue(paused)).toBe(false);
    const resumed = withActive(paused, true, T0 + 200_000);
    expect(resumed).toMatchObject({ active: true, dateChanged: T0 + 200_000, due: T0 + 240_000, attempts: 0 });
  });

  it("keeps dateChanged when the state does not change", () => {
    const alarm = dueAlarm(everyMinute);
    expect(withActive(alarm, true, T0 + 5_000).dateChanged).toBe(T0);
  });

  it("re-arms for a new schedule and forgets the attempts at the old one", () => {
    const retrying = { ...dueAlarm(everyMinute), attempts: 3 };
    const updated = rescheduled(retrying, everyTenSeconds, T0 + 12_000);
    expect(updated).toMatchObject({ schedule: everyTenSeconds, due: T0 + 20_000, attempts: 0 });
  });

  it("reports the state as the feed's READ shows it", () => {
    expect(alarmStatus(dueAlarm(everyMinute))).toEqual({ schedule: everyMinute, active: true, dateChanged: T0, nextFire: T0 + 60_000 });
  });
});

describe("after a fire attempt", () => {
  it("deactivates the alarm when its trigger or owner is gone", () => {
    const step = nextAlarmState(dueAlarm(everyTenSeconds), orphaned, T0 + 10_050);
    expect(step).toEqual({
      kind: "deactivate",
      state: expect.objectContaining({ active: false, dateChanged: T0 + 10_050, due: undefined, attempts: 0 }),
      wakeAt: undefined,
    });
  });

  it("retries the same fire after a growing backoff while attempts are left", () => {
    let alarm = dueAlarm(everyTenSeconds);
    const waits: number[] = [];
    for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
      const now = T0 + 10_000 + attempt * 100_000;
      const step = nextAlarmState(alarm, failed, now);
      if (step.kind !== "retry") throw new Error(`attempt ${attempt} gave ${step.kind}`);
      expect(step.state).toMatchObject({ due: T0 + 10_000, attempts: attempt, active: true });
      waits.push(step.wakeAt - now);
      alarm = step.state;
    }
    expect(waits).toEqual([2_000, 4_000, 8_000, 16_000]);
  });

  it("caps the backoff at a minute", () => {
    expect(retryDelay(6)).toBe(60_000);
    expect(retryDelay(20)).toBe(60_000);
  });

  it("gives up at the last attempt: records the error and arms the next fire after the failed one", () => {
    const alarm = { ...dueAlarm(everyTenSeconds), attempts: MAX_ATTEMPTS - 1 };
    const step = nextAlarmState(alarm, failed, T0 + 13_000);
    expect(step).toEqual({
      kind: "give-up",
      error: "queue unavailable",
      state: expect.objectContaining({ active: true, due: T0 + 20_000, attempts: 0 }),
      wakeAt: T0 + 20_000,
    });
  });

  it("does not delete a once trigger whose fire failed at the last attempt", () => {
    const alarm = { ...dueAlarm(once("true")), attempts: MAX_ATTEMPTS - 1 };
    const step = nextAlarmState(alarm, failed, T0 + 70_000);
    expect(step).toMatchObject({ kind: "give-up", state: { due: undefined }, wakeAt: undefined });
  });

  it("deletes the trigger after a once alarm fires with deleteAfterFire true, keeping its rules", () => {
    expect(nextAlarmState(dueAlarm(once("true")), fired, T0 + 60_010)).toEqual({ kind: "delete", withRules: false });
  });

  it("deletes the trigger and its rules after a once alarm fires with deleteAfterFire rules", () => {
    expect(nextAlarmState(dueAlarm(once("rules")), fired, T0 + 60_010)).toEqual({ kind: "delete", withRules: true });
  });

  it("keeps a fired once alarm without deleteAfterFire, with nothing more to fire", () => {
    for (const schedule of [once(), once("false")]) {
      const step = nextAlarmState(dueAlarm(schedule), fired, T0 + 60_010);
      expect(step).toEqual({
        kind: "rearm",
        state: expect.objectContaining({ active: true, due: undefined }),
        wakeAt: undefined,
      });
    }
  });

  it("re-arms a cron alarm for its next fire", () => {
    const step = nextAlarmState(dueAlarm(everyTenSeconds), fired, T0 + 10_020);
    expect(step).toEqual({ kind: "rearm", state: expect.objectContaining({ due: T0 + 20_000, attempts: 0 }), wakeAt: T0 + 20_000 });
  });

  it("re-arms after a retried fire succeeds, forgetting its attempts", () => {
    const alarm = { ...dueAlarm(everyMinute), attempts: 2 };
    const step = nextAlarmState(alarm, fired, T0 + 60_000 + 6_500);
    expect(step).toMatchObject({ kind: "rearm", state: { due: T0 + 120_000, attempts: 0 }, wakeAt: T0 + 120_000 });
  });

  it("skips fires missed while firing late rather than replaying them", () => {
    const step = nextAlarmState(dueAlarm(everyMinute), fired, T0 + 60_000 + 150_000);
    expect(step).toMatchObject({ kind: "rearm", wakeAt: T0 + 240_000 });
  });

  it("arms nothing more once the stop date has passed", () => {
    const schedule: AlarmSchedule = { ...everyMinute, stopDate: T0 + 90_000 };
    const step = nextAlarmState(dueAlarm(schedule), fired, T0 + 60_010);
    expect(step).toEqual({ kind: "rearm", state: expect.objectContaining({ active: true, due: undefined }), wakeAt: undefined });
  });
});
