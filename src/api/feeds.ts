// /api/v1/feeds/alarms/{alarm|once|interval}: the alarm provider behind the
// /whisk.system/alarms feed actions. The feed action posts each lifecycle
// event here with the trigger owner's key, as the stock package posts to its
// provider service.
import { Hono } from "hono";
import { parseAlarmSchedule, updateAlarmSchedule, type AlarmKind } from "../core/alarm-schedule.js";
import { getEntityOf } from "../core/entity-reads.js";
import { WhiskError, notFound } from "../core/errors.js";
import { parseQualifiedName, qualifiedName, type EntityRef } from "../core/names.js";
import type { AlarmState } from "../ports/alarm-service.js";
import { readJson } from "./body.js";
import { actionApiHost, type ApiContext, type ApiEnv } from "./context.js";
import { assertOwner } from "./crud.js";

const KINDS = new Set<AlarmKind>(["alarm", "once", "interval"]);

function describe(trigger: EntityRef, state: AlarmState) {
  const { schedule } = state;
  const config: Record<string, unknown> = { name: trigger.name, namespace: trigger.namespace, payload: schedule.payload };
  if (schedule.kind === "once") Object.assign(config, { date: schedule.date, deleteAfterFire: schedule.deleteAfterFire });
  else {
    Object.assign(config, { startDate: schedule.startDate, stopDate: schedule.stopDate });
    if (schedule.kind === "interval") config.minutes = schedule.minutes;
    else Object.assign(config, { cron: schedule.cron, timezone: schedule.timezone });
  }
  return {
    config,
    status: {
      active: state.active,
      dateChanged: state.dateChanged,
      dateChangedISO: new Date(state.dateChanged).toISOString(),
      ...(state.nextFire !== undefined ? { nextFire: new Date(state.nextFire).toISOString() } : {}),
    },
  };
}

async function lifecycle(c: ApiContext) {
  const kind = c.req.param("kind") as AlarmKind;
  if (!KINDS.has(kind)) throw notFound();
  const identity = c.get("identity");
  const platform = c.get("platform");
  const params = ((await readJson(c)) ?? {}) as Record<string, unknown>;
  if (typeof params.triggerName !== "string" || !params.triggerName) {
    throw new WhiskError(400, "no trigger name parameter was provided");
  }
  const trigger = parseQualifiedName(params.triggerName, identity.namespace);
  assertOwner(identity, trigger);
  const now = Date.now();
  const missing = () => new WhiskError(404, `could not find trigger ${qualifiedName(trigger)} in the database`);

  switch (params.lifecycleEvent) {
    case "CREATE": {
      await getEntityOf(platform.store, "triggers", trigger);
      const schedule = parseAlarmSchedule(kind, params, now);
      await platform.alarms.create(trigger, identity, schedule, actionApiHost(c));
      return c.json({ status: "success" });
    }
    case "READ": {
      const state = await platform.alarms.read(trigger);
      if (!state) throw missing();
      return c.json(describe(trigger, state));
    }
    case "UPDATE": {
      const state = await platform.alarms.read(trigger);
      if (!state) throw missing();
      await platform.alarms.update(trigger, updateAlarmSchedule(state.schedule, params, now));
      return c.json({ status: "success" });
    }
    case "PAUSE":
    case "UNPAUSE": {
      if (!(await platform.alarms.setActive(trigger, params.lifecycleEvent === "UNPAUSE"))) throw missing();
      return c.json({ status: "success" });
    }
    case "DELETE":
      // Deleting twice is fine: the CLI and the trigger DELETE may both ask.
      await platform.alarms.delete(trigger);
      return c.json({ status: "success" });
    default:
      throw new WhiskError(400, "unsupported lifecycleEvent");
  }
}

export const feedRoutes = new Hono<ApiEnv>().post("/alarms/:kind", lifecycle);
