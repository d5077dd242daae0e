// Running a sequence: components in order, each an activation of its own,
// the result of one the parameters of the next, the first failure ending the
// chain. The sequence's record lists the component activation ids as logs.
import { buildActivation, type ActivationRecord, type ActivationResponse } from "../core/activation.js";
import type { SequenceExec } from "../core/entities.js";
import { parseQualifiedName, qualifiedName, type EntityRef } from "../core/names.js";
import type { ResolvedAction } from "../core/resolve.js";
import type { Identity, InvokeRequest } from "../ports.js";

export interface ComponentCall {
  action: EntityRef;
  params: Record<string, unknown>;
  identity: Identity;
  transactionId: string;
  /** The activation id of the sequence that runs this component. */
  cause: string;
  apiHost: string;
}

export type ComponentInvoker = (call: ComponentCall) => Promise<ActivationRecord>;

export async function runSequence(
  sequence: ResolvedAction,
  request: InvokeRequest,
  invokeComponent: ComponentInvoker,
  now: () => number,
): Promise<ActivationRecord> {
  const exec = sequence.doc.exec as SequenceExec;
  const start = now();
  const componentIds: string[] = [];
  let params: Record<string, unknown> = { ...defaults(sequence), ...request.params };
  let response: ActivationResponse | undefined;
  let duration = 0;

  for (const component of exec.components) {
    const record = await invokeComponent({
      action: parseQualifiedName(component, request.identity.namespace),
      params,
      identity: request.identity,
      transactionId: request.transactionId,
      cause: request.activationId,
      apiHost: request.apiHost,
    });
    componentIds.push(record.activationId);
    duration += record.duration;
    response = record.response;
    if (!record.response.success) break;
    params = (record.response.result ?? {}) as Record<string, unknown>;
  }

  return buildActivation({
    activationId: request.activationId,
    namespace: request.identity.namespace,
    subject: request.identity.subject,
    name: sequence.ref.name,
    version: sequence.doc.version,
    path: qualifiedName(sequence.ref),
    kind: "sequence",
    limits: sequence.doc.limits,
    start,
    end: now(),
    waitTime: Math.max(0, start - request.receivedAt),
    cause: request.cause,
    response: response ?? { status: "success", statusCode: 0, success: true, result: params },
    logs: componentIds,
    annotations: [
      ...(request.cause ? [] : [{ key: "topmost", value: true }]),
      ...(request.extraAnnotations ?? []),
    ],
    duration,
  });
}

function defaults(sequence: ResolvedAction): Record<string, unknown> {
  return Object.fromEntries(sequence.params.map((kv) => [kv.key, kv.value]));
}
