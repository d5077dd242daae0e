// The AlarmService port on Cloudflare: one AlarmFeed Durable Object per trigger.
import type { AlarmSchedule } from "../core/alarm-schedule.js";
import { qualifiedName, type EntityRef } from "../core/names.js";
import type { AlarmService, AlarmState } from "../ports/alarm-service.js";
import type { Identity } from "../ports/identity.js";
import type { AlarmFeed } from "./alarm-do.js";

export class DurableObjectAlarms implements AlarmService {
  constructor(private readonly namespace: DurableObjectNamespace<AlarmFeed>) {}

  private stub(trigger: EntityRef) {
    return this.namespace.get(this.namespace.idFromName(qualifiedName(trigger)));
  }

  async create(trigger: EntityRef, owner: Identity, schedule: AlarmSchedule, apiHost: string): Promise<void> {
    await this.stub(trigger).create(trigger, owner, schedule, apiHost);
  }

  async read(trigger: EntityRef): Promise<AlarmState | undefined> {
    return (await this.stub(trigger).read()) as AlarmState | undefined;
  }

  update(trigger: EntityRef, schedule: AlarmSchedule): Promise<boolean> {
    return this.stub(trigger).update(schedule);
  }

  setActive(trigger: EntityRef, active: boolean): Promise<boolean> {
    return this.stub(trigger).setActive(active);
  }

  delete(trigger: EntityRef): Promise<boolean> {
    return this.stub(trigger).delete();
  }
}
