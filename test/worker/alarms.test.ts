// The built-in /whisk.system/alarms feeds on alarm Durable Objects.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { AlarmFeed } from "../../src/cloudflare/alarm-do.js";
import { call, createAction, GUEST_KEY, seedNamespaces, store, waitForActivation } from "./helpers.js";

const ns = "/api/v1/namespaces/_";

beforeAll(async () => {
  await seedNamespaces();
  await createAction("tick", "function main(p) { return { got: p } }");
});

/** What `wsk trigger create NAME --feed /whisk.system/alarms/KIND -p ...` sends. */
async function createFeedTrigger(name: string, kind: string, params: Record<string, unknown>) {
  const put = await call("PUT", `${ns}/triggers/${name}`, {
    body: { annotations: [{ key: "feed", value: `/whisk.system/alarms/${kind}` }] },
  });
  expect(put.status).toBe(200);
  return feed(kind, "CREATE", name, params);
}

function feed(kind: string, lifecycleEvent: string, trigger: string, params: Record<string, unknown> = {}) {
  return call("POST", `/api/v1/namespaces/whisk.system/actions/alarms/${kind}?blocking=true`, {
    body: { ...params, lifecycleEvent, triggerName: `/_/${trigger}`, authKey: GUEST_KEY },
  });
}

const alarmOf = (trigger: string) => env.ALARMS.get(env.ALARMS.idFromName(`guest/${trigger}`));

async function actionActivations() {
  return store().listActivations("guest", { name: "tick" }, { limit: 100, skip: 0 });
}

describe("alarm feeds", () => {
  it("fires the trigger on schedule, through its rule, with the trigger payload", async () => {
    const created = await createFeedTrigger("every8", "alarm", { cron: "*/8 * * * * *", trigger_payload: { hello: "alarm" } });
    expect(created.status).toBe(200);
    expect(created.body.response.result).toEqual({ status: "success" });
    await call("PUT", `${ns}/rules/every8-rule`, { body: { trigger: "/_/every8", action: "/_/tick" } });

    const read = await feed("alarm", "READ", "every8");
    expect(read.body.response.result).toMatchObject({
      config: { name: "every8", namespace: "guest", cron: "*/8 * * * * *", payload: { hello: "alarm" } },
      status: { active: true },
    });
    const next = new Date(read.body.response.result.status.nextFire).getTime();
    expect(next - Date.now()).toBeLessThanOrEqual(8_000);

    const before = (await actionActivations()).length;
    expect(await runDurableObjectAlarm(alarmOf("every8"))).toBe(true);
    const deadline = Date.now() + 10_000;
    let activations = await actionActivations();
    while (activations.length === before && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      activations = await actionActivations();
    }
    // The schedule itself may fire too while the test runs (every 8 s): one fire or two, each complete.
    expect(activations.length - before).toBeGreaterThanOrEqual(1);
    expect(activations.length - before).toBeLessThanOrEqual(2);
    expect(activations[0].response.result).toMatchObject({ got: { hello: "alarm" } });
    const triggers = await store().listActivations("guest", { name: "every8" }, { limit: 10, skip: 0 });
    expect(triggers.length).toBeGreaterThanOrEqual(1);
    expect(triggers.length).toBeLessThanOrEqual(2);
    for (const trigger of triggers) expect(JSON.parse(trigger.logs[0])).toMatchObject({ rule: "guest/every8-rule", success: true });

    // The next fire is armed and survives in the object's storage.
    await runInDurableObject(alarmOf("every8"), async (_instance, state) => {
      expect(await state.storage.getAlarm()).toBeGreaterThan(Date.now() - 1_000);
    });
  });

  it("pauses without firing and resumes without replaying", async () => {
    await createFeedTrigger("paused", "interval", { minutes: 1 });
    await call("PUT", `${ns}/rules/paused-rule`, { body: { trigger: "/_/paused", action: "/_/tick" } });
    expect((await feed("interval", "PAUSE", "paused")).status).toBe(200);
    expect((await feed("interval", "READ", "paused")).body.response.result.status.active).toBe(false);
    expect(await runDurableObjectAlarm(alarmOf("paused"))).toBe(false);
    expect(await store().listActivations("guest", { name: "paused" }, { limit: 10, skip: 0 })).toHaveLength(0);
    expect((await feed("interval", "UNPAUSE", "paused")).status).toBe(200);
    const state = (await feed("interval", "READ", "paused")).body.response.result.status;
    expect(state.active).toBe(true);
    expect(new Date(state.nextFire).getTime()).toBeGreaterThan(Date.now());
  });

  it("refuses bad schedules with the alarms package's messages and arms nothing", async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ["alarm", {}, "alarms trigger feed is missing the cron parameter"],
      ["alarm", { cron: "every minute" }, "cron pattern 'every minute' is not valid"],
      ["alarm", { cron: "* * * * *", stopDate: "2001-01-01T00:00:00Z" }, "stopDate parameter '2001-01-01T00:00:00Z' must be in the future"],
      ["once", { date: "2001-01-01T00:00:00Z" }, "date parameter '2001-01-01T00:00:00Z' must be in the future"],
      ["once", {}, "alarms once trigger feed is missing the date parameter"],
      ["interval", { minutes: "x" }, "the minutes parameter must be an integer"],
      ["interval", { minutes: -5 }, "the minutes parameter must be an integer greater than zero"],
    ];
    for (const [index, [kind, params, message]] of cases.entries()) {
      const name = `bad${index}`;
      const res = await createFeedTrigger(name, kind, params);
      expect(res.status, message).toBe(502);
      expect(res.body.response.result).toEqual({ error: message });
      await runInDurableObject(alarmOf(name), async (_instance, state) => {
        expect(await state.storage.getAlarm()).toBeNull();
      });
    }
  });

  it("stops the alarm when the trigger is deleted", async () => {
    await createFeedTrigger("doomed", "alarm", { cron: "* * * * *" });
    const deleted = await call("DELETE", `${ns}/triggers/doomed`);
    expect(deleted.status).toBe(200);
    await runInDurableObject(alarmOf("doomed"), async (_instance, state) => {
      expect(await state.storage.getAlarm()).toBeNull();
      expect(state.storage.kv.get("state")).toBeUndefined();
    });
  });

  it("pauses the alarm when it finds its trigger gone", async () => {
    await createFeedTrigger("vanished", "alarm", { cron: "* * * * *" });
    // Deleted behind the feed's back, so nothing told the alarm.
    const entity = await store().getEntity({ namespace: "guest", name: "vanished" });
    await store().deleteEntity(entity!.ref, entity!.rev!);
    expect(await runDurableObjectAlarm(alarmOf("vanished"))).toBe(true);
    const status = await runInDurableObject(alarmOf("vanished"), async (instance: AlarmFeed, state) => {
      expect(await state.storage.getAlarm()).toBeNull();
      return instance.read();
    });
    expect(status).toMatchObject({ active: false, nextFire: undefined });
  });

  it("fires a once alarm and deletes the trigger after firing when asked", async () => {
    const date = new Date(Date.now() + 60_000).toISOString();
    await createFeedTrigger("one-shot", "once", { date, deleteAfterFire: "true" });
    await call("PUT", `${ns}/rules/one-shot-rule`, { body: { trigger: "/_/one-shot", action: "/_/tick" } });
    expect(await runDurableObjectAlarm(alarmOf("one-shot"))).toBe(true);
    const record = await waitForActivation(
      (await (async () => {
        const deadline = Date.now() + 10_000;
        for (;;) {
          const list = await store().listActivations("guest", { name: "one-shot" }, { limit: 1, skip: 0 });
          if (list.length || Date.now() > deadline) return list[0]?.activationId ?? "missing";
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      })()) as string,
    );
    expect(record.name).toBe("one-shot");
    expect((await call("GET", `${ns}/triggers/one-shot`)).status).toBe(404);
  });
});
