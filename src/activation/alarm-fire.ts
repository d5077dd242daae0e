// One tick of an alarm: fire its trigger as the feed's owner. Host-neutral;
// the Cloudflare alarm Durable Object and the Kubernetes scheduler both call
// it and decide about retries from its outcome.
import { buildActivation, newActivationId, whiskError } from "../core/activation.js";
import { hashAuthKey, parseAuthKey, sameDigest } from "../core/auth.js";
import { findEntityOf } from "../core/entity-reads.js";
import { WhiskError } from "../core/errors.js";
import { qualifiedName, type EntityRef } from "../core/names.js";
import { refOfPathAndName, ruleKey } from "../core/triggers.js";
import type { Dispatcher } from "../ports/dispatcher.js";
import type { Identity } from "../ports/identity.js";
import type { Store } from "../ports/store.js";
import type { Throttle } from "../ports/admission.js";
import { acceptFire } from "./fire.js";

export type AlarmFireOutcome =
  | { kind: "fired"; activationId?: string }
  /** The trigger is gone, or its owner's key no longer works: the alarm should stop. */
  | { kind: "orphaned"; reason: string }
  | { kind: "failed"; error: string };

export interface AlarmFireDeps {
  store: Store;
  dispatcher: Dispatcher;
  throttle: Throttle;
}

export async function fireAlarm(
  deps: AlarmFireDeps,
  trigger: EntityRef,
  owner: Identity,
  payload: Record<string, unknown>,
  apiHost: string,
): Promise<AlarmFireOutcome> {
  try {
    const credentials = parseAuthKey(owner.authKey);
    const subject = credentials && (await deps.store.findSubject(credentials.uuid));
    if (!credentials || !subject || !sameDigest(subject.keyHash, await hashAuthKey(credentials))) {
      return { kind: "orphaned", reason: "The supplied authentication is invalid" };
    }
    // OpenWhisk's alarm service fires through the API, so each fire counts against firesPerMinute;
    // a refused fire is retried like any other failed one.
    await deps.throttle.admit(owner.namespace, "fire");
    const activationId = await acceptFire(deps, {
      identity: owner,
      trigger,
      payload,
      headers: {},
      apiHost,
      transactionId: crypto.randomUUID().replaceAll("-", ""),
    });
    return { kind: "fired", activationId };
  } catch (err) {
    if (err instanceof WhiskError && (err.status === 404 || err.status === 409)) {
      return { kind: "orphaned", reason: `trigger ${qualifiedName(trigger)} does not exist` };
    }
    return { kind: "failed", error: err instanceof Error ? err.message : String(err) };
  }
}

/** A fire that could not be made after retries still shows up as a trigger activation. */
export async function recordFailedAlarm(store: Store, trigger: EntityRef, owner: Identity, error: string) {
  const now = Date.now();
  await store.putActivation(
    buildActivation({
      activationId: newActivationId(),
      namespace: owner.namespace,
      subject: owner.subject,
      name: trigger.name,
      version: "0.0.0",
      path: qualifiedName(trigger),
      start: now,
      end: now,
      response: whiskError(`The alarm could not fire the trigger: ${error}`),
      logs: [],
    }),
  );
}

/** `deleteAfterFire` of a once alarm: remove the trigger, and with "rules" its rules too. */
export async function deleteFiredTrigger(store: Store, trigger: EntityRef, withRules: boolean): Promise<void> {
  const entity = await findEntityOf(store, "triggers", trigger);
  if (!entity) return;
  if (withRules) {
    for (const key of Object.keys(entity.doc.rules ?? {})) {
      const [namespace, name] = key.split("/");
      const rule = await findEntityOf(store, "rules", { namespace, name });
      if (rule && ruleKey(namespace, name) === key) {
        if (qualifiedName(refOfPathAndName(rule.doc.trigger)) === qualifiedName(trigger)) await store.deleteEntity(rule.ref, rule.rev);
      }
    }
  }
  await store.deleteEntity(trigger, entity.rev);
}
