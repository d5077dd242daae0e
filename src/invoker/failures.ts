// Activations that could not run still get a record: a client waiting on an
// activation id must find out what happened to it.
import { buildActivation, whiskError, type ActivationRecord } from "../core/activation.js";
import { qualifiedName } from "../core/names.js";
import type { InvokeRequest } from "../ports.js";

export function failedActivation(request: InvokeRequest, message: string, now: number): ActivationRecord {
  return buildActivation({
    activationId: request.activationId,
    namespace: request.identity.namespace,
    subject: request.identity.subject,
    name: request.action.name,
    version: "0.0.0",
    path: qualifiedName(request.action),
    start: now,
    end: now,
    waitTime: Math.max(0, now - request.receivedAt),
    cause: request.cause,
    response: whiskError(message),
    logs: [],
    annotations: request.extraAnnotations ?? [],
  });
}
