// Activations that could not run still get a record: a client waiting on an
// activation id must find out what happened to it.
import { buildActivation, requestedActivation, whiskError, type ActivationRecord, type RecordedRequest } from "../core/activation.js";
import type { KeyValue } from "../core/entities.js";
import type { EntityRef } from "../core/names.js";
import { Messages } from "../core/errors.js";
import type { ConcurrencyGate } from "../ports/admission.js";
import type { InvokeRequest } from "../ports/invokers.js";
import type { Store } from "../ports/store.js";
import { releasePlace } from "./start.js";
import type { TriggerFire } from "../ports/dispatcher.js";

/** A whisk internal error at `now`, of an entity whose version is unknown (0.0.0). */
function failure(request: RecordedRequest, entity: EntityRef, message: string, now: number, annotations: KeyValue[]) {
  return buildActivation({
    ...requestedActivation(request, entity, "0.0.0", now),
    start: now,
    end: now,
    response: whiskError(message),
    logs: [],
    annotations,
  });
}

export function failedActivation(request: InvokeRequest, message: string, now: number): ActivationRecord {
  return failure(request, request.action, message, now, request.extraAnnotations ?? []);
}

/** A trigger fire that could not be carried out, recorded under the fire's activation id. */
export function failedFire(fire: TriggerFire, message: string, now: number): ActivationRecord {
  return failure(fire, fire.trigger, message, now, []);
}

/**
 * An activation whose invoker died while running it (the call was delivered,
 * then the connection broke): its record is a whisk internal error, unless
 * the invoker recorded it before it went, and its place is given back.
 * Nothing runs it again, since it may have run already.
 */
export async function recordLostActivation(
  deps: { store: Store; concurrency?: ConcurrencyGate },
  request: InvokeRequest,
  now = Date.now(),
): Promise<ActivationRecord> {
  const failed = failedActivation(request, Messages.invokerLost, now);
  const recorded = (await deps.store.putActivation(failed))
    ? failed
    : ((await deps.store.getActivation(request.identity.namespace, request.activationId)) ?? failed);
  await releasePlace(deps.concurrency, request);
  return recorded;
}
