// The AlarmService port: where a host keeps the alarms of /whisk.system/alarms
// triggers and fires them (alarm Durable Objects on Cloudflare,
// src/cloudflare/alarm-do-client.ts; PostgreSQL rows and a scheduler on
// Kubernetes, src/node/postgres-alarms.ts). The life of an alarm is
// src/core/alarm-lifecycle.ts on both.
import type { AlarmSchedule } from "../core/alarm-schedule.js";
import type { EntityRef } from "../core/names.js";
import type { Identity } from "./identity.js";

/** A trigger's alarm as its feed sees it (READ). */
export interface AlarmState {
  schedule: AlarmSchedule;
  active: boolean;
  /** Epoch ms of the last status change. */
  dateChanged: number;
  /** Epoch ms of the next fire, if one is due. */
  nextFire?: number;
}

/** Where a host keeps alarm schedules and fires their triggers (the /whisk.system/alarms provider). */
export interface AlarmService {
  /**
   * Starts firing `trigger` on `schedule` as `owner`, replacing any previous
   * schedule; `apiHost` is what the fired actions see as __OW_API_HOST.
   */
  create(trigger: EntityRef, owner: Identity, schedule: AlarmSchedule, apiHost: string): Promise<void>;
  read(trigger: EntityRef): Promise<AlarmState | undefined>;
  update(trigger: EntityRef, schedule: AlarmSchedule): Promise<boolean>;
  /** Pauses (no fires, none replayed later) or resumes; false when there is no alarm. */
  setActive(trigger: EntityRef, active: boolean): Promise<boolean>;
  /** Stops and forgets the alarm; true when there was one. */
  delete(trigger: EntityRef): Promise<boolean>;
}
