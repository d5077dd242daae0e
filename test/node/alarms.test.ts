// The Node host's alarms against a real PostgreSQL: the adapter persists the
// steps of core/alarm-lifecycle.ts in node_alarms (src/store/alarm-rows.ts),
// a change made through the API while an alarm fires wins, and the
// scheduler's lock admits one session at a time.
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_ATTEMPTS } from "../../src/core/alarm-lifecycle.js";
import type { AlarmSchedule } from "../../src/core/alarm-schedule.js";
import type { TriggerDoc } from "../../src/core/entities.js";
import { PostgresAlarms } from "../../src/node/postgres-alarms.js";
import { applyMigrations } from "../../src/node/migrate.js";
import { createPool, PostgresSql } from "../../src/node/postgres.js";
import type { DispatchMessage, Dispatcher } from "../../src/ports/dispatcher.js";
import type { Identity } from "../../src/ports/identity.js";
import type { Throttle } from "../../src/ports/admission.js";
import { checkSession, takeSchedulerLock } from "../../src/store/alarm-rows.js";
import { seedSubject } from "../../src/store/seed.js";
import { SqlStore } from "../../src/store/sql-store.js";
import { createTestDatabase, testServices } from "./services.js";

const services = await testServices();

const AUTH_KEY = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP";
const owner: Identity = { subject: "guest", namespace: "guest", uuid: "23bc46b1-71f6-4ed5-8c54-816aa4f8c502", authKey: AUTH_KEY };
const API_HOST = "https://api.example";

describe.skipIf(!services)("alarms on PostgreSQL", () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: pg.Pool;
  let store: SqlStore;
  let alarms: PostgresAlarms;
  const sent: DispatchMessage[] = [];
  const dispatcher: Dispatcher = { dispatch: async (message) => void sent.push(message) };
  const admit: Throttle = { admit: async () => undefined };
  const refuse: Throttle = {
    admit: async () => {
      throw new Error("too many fires");
    },
  };

  beforeAll(async () => {
    database = await createTestDatabase(services!);
    pool = createPool(database.url);
    await applyMigrations(pool);
    store = new SqlStore(new PostgresSql(pool));
    await seedSubject(store, AUTH_KEY, "guest");
    alarms = new PostgresAlarms(pool);
  });

  afterAll(async () => {
    await pool?.end();
    await database?.drop();
  });

  /** A trigger with one active rule, so that a fire dispatches. */
  async function createTrigger(name: string): Promise<{ namespace: string; name: string }> {
    const ref = { namespace: "guest", name };
    const doc: TriggerDoc = {
      namespace: "guest",
      name,
      version: "0.0.1",
      publish: false,
      updated: Date.now(),
      annotations: [],
      parameters: [],
      limits: {},
      rules: { "guest/r": { action: { path: "guest", name: "a" }, status: "active" } },
    };
    expect(await store.createEntity({ collection: "triggers", ref, doc })).toBe(true);
    return ref;
  }

  const everyMinute = (): AlarmSchedule => ({ kind: "interval", minutes: 1, startDate: Date.now() + 30_000, payload: { n: 1 } });
  const nextFire = async (trigger: { namespace: string; name: string }) => (await alarms.read(trigger))?.nextFire;
  const wakeAt = async (trigger: { name: string }) =>
    (await pool.query<{ next_fire: number | null }>("SELECT next_fire FROM node_alarms WHERE trigger_key = $1", [`guest/${trigger.name}`]))
      .rows[0]?.next_fire;

  it("fires a due alarm and arms the next fire", async () => {
    const trigger = await createTrigger("ticking");
    await alarms.create(trigger, owner, everyMinute(), API_HOST);
    const due = (await nextFire(trigger))!;
    expect(await alarms.fireDue({ store, dispatcher, throttle: admit }, due - 1)).toBe(0);
    const before = sent.length;
    expect(await alarms.fireDue({ store, dispatcher, throttle: admit }, due)).toBe(1);
    expect(sent.slice(before)).toMatchObject([{ type: "fire", fire: { trigger, payload: { n: 1 }, apiHost: API_HOST } }]);
    expect(await nextFire(trigger)).toBe(due + 60_000);
    expect(await wakeAt(trigger)).toBe(due + 60_000);
    await alarms.delete(trigger);
  });

  it("retries a failing fire with backoff, then records it and moves on", async () => {
    const trigger = await createTrigger("refused");
    await alarms.create(trigger, owner, everyMinute(), API_HOST);
    const due = (await nextFire(trigger))!;
    for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
      const started = Date.now();
      expect(await alarms.fireDue({ store, dispatcher, throttle: refuse }, due + 50_000)).toBe(1);
      expect(await nextFire(trigger)).toBe(due);
      const wake = (await wakeAt(trigger))!;
      expect(wake - started).toBeGreaterThanOrEqual(1_000 * 2 ** attempt);
      expect(wake - Date.now()).toBeLessThanOrEqual(1_000 * 2 ** attempt);
    }
    expect(await store.listActivations("guest", { name: "refused" }, { limit: 10, skip: 0 })).toHaveLength(0);
    expect(await alarms.fireDue({ store, dispatcher, throttle: refuse }, due + 50_000)).toBe(1);
    const recorded = await store.listActivations("guest", { name: "refused" }, { limit: 10, skip: 0 });
    expect(recorded).toHaveLength(1);
    expect(recorded[0].response.result).toEqual({ error: "The alarm could not fire the trigger: too many fires" });
    expect(await nextFire(trigger)).toBe(due + 60_000);
    expect(await wakeAt(trigger)).toBe(due + 60_000);
    await alarms.delete(trigger);
  });

  it("deactivates the alarm of a trigger that is gone", async () => {
    const trigger = { namespace: "guest", name: "never-made" };
    await alarms.create(trigger, owner, everyMinute(), API_HOST);
    const due = (await nextFire(trigger))!;
    expect(await alarms.fireDue({ store, dispatcher, throttle: admit }, due)).toBe(1);
    expect(await alarms.read(trigger)).toMatchObject({ active: false, nextFire: undefined });
    expect(await wakeAt(trigger)).toBeNull();
    expect(await alarms.delete(trigger)).toBe(true);
    expect(await alarms.delete(trigger)).toBe(false);
  });

  it("deletes the trigger and the alarm after a once alarm fires with deleteAfterFire", async () => {
    const trigger = await createTrigger("one-shot");
    const date = new Date(Date.now() + 60_000).toISOString();
    await alarms.create(trigger, owner, { kind: "once", date, deleteAfterFire: "true", payload: {} }, API_HOST);
    expect(await alarms.fireDue({ store, dispatcher, throttle: admit }, Date.parse(date))).toBe(1);
    expect(await alarms.read(trigger)).toBeUndefined();
    expect(await store.getEntity(trigger)).toBeUndefined();
  });

  it("lets a pause made while the alarm fires win over the fire's own next state", async () => {
    const trigger = await createTrigger("paused-midway");
    await alarms.create(trigger, owner, everyMinute(), API_HOST);
    const due = (await nextFire(trigger))!;
    const pausing: Dispatcher = {
      async dispatch(message) {
        sent.push(message);
        await alarms.setActive(trigger, false);
      },
    };
    expect(await alarms.fireDue({ store, dispatcher: pausing, throttle: admit }, due)).toBe(1);
    expect(await alarms.read(trigger)).toMatchObject({ active: false, nextFire: undefined });
    expect(await wakeAt(trigger)).toBeNull();
    await alarms.delete(trigger);
  });

  it("gives the scheduler's lock to one session at a time", async () => {
    const first = await pool.connect();
    let firstEnded = false;
    const second = await pool.connect();
    try {
      expect(await takeSchedulerLock(first)).toBe(true);
      expect(await takeSchedulerLock(second)).toBe(false);
      await checkSession(first);
      first.release(true); // ends the session, and with it the lock
      firstEnded = true;
      const deadline = Date.now() + 5_000;
      let taken = await takeSchedulerLock(second);
      while (!taken && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        taken = await takeSchedulerLock(second);
      }
      expect(taken).toBe(true);
    } finally {
      if (!firstEnded) first.release(true);
      second.release(true);
    }
  });
});
