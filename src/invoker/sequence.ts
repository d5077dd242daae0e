// Running a sequence: components in order, each an activation of its own
// caused by the sequence, the result of one the parameters of the next, the
// first failure ending the chain and becoming the sequence's response. The
// sequence's record lists the component activation ids as its logs and its
// duration is the sum of theirs.
import {
  activationResponse,
  buildActivation,
  StatusCode,
  type ActivationRecord,
  type ActivationResponse,
} from "../core/activation.js";
import type { KeyValue, SequenceExec } from "../core/entities.js";
import { Messages, WhiskError } from "../core/errors.js";
import { LIMITS } from "../core/limits.js";
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

interface Accounting {
  ids: string[];
  duration: number;
  maxMemory?: number;
  response: ActivationResponse;
}

export async function runSequence(
  sequence: ResolvedAction,
  request: InvokeRequest,
  invokeComponent: ComponentInvoker,
  now: () => number,
): Promise<ActivationRecord> {
  const exec = sequence.doc.exec as SequenceExec;
  const start = now();
  const accounting: Accounting = {
    ids: [],
    duration: 0,
    response: activationResponse(StatusCode.success, request.params),
  };

  for (const component of exec.components) {
    const input = accounting.response.result;
    const params = input !== null && typeof input === "object" ? (input as Record<string, unknown>) : {};
    let record: ActivationRecord;
    try {
      record = await invokeComponent({
        action: parseQualifiedName(component, request.identity.namespace),
        params,
        identity: request.identity,
        transactionId: request.transactionId,
        cause: request.activationId,
        apiHost: request.apiHost,
      });
    } catch (err) {
      const missing = err instanceof WhiskError && (err.status === 404 || err.status === 403);
      accounting.response = missing
        ? activationResponse(StatusCode.applicationError, { error: Messages.sequenceComponentNotFound })
        : activationResponse(StatusCode.whiskError, { error: Messages.sequenceActivationFailure });
      break;
    }
    accounting.ids.push(record.activationId);
    accounting.duration += record.duration ?? 0;
    const memory = (record.annotations.find((kv) => kv.key === "limits")?.value as { memory?: number } | undefined)
      ?.memory;
    if (typeof memory === "number") accounting.maxMemory = Math.max(accounting.maxMemory ?? 0, memory);
    accounting.response = record.response;
    if (!record.response.success) break;
  }

  const topmost = request.cause === undefined;
  const annotations: KeyValue[] = [{ key: "topmost", value: topmost }];
  if (!topmost) annotations.push({ key: "causedBy", value: "sequence" });
  if (sequence.binding) annotations.push({ key: "binding", value: sequence.binding });
  const { timeout, logs } = sequence.doc.limits;
  if (accounting.maxMemory !== undefined) {
    // As OpenWhisk writes it: the sequence's timeout and logs, the largest memory seen, the default concurrency.
    annotations.push({ key: "limits", value: { timeout, memory: accounting.maxMemory, logs, concurrency: LIMITS.concurrency.std } });
  }

  return buildActivation({
    activationId: request.activationId,
    namespace: request.identity.namespace,
    subject: request.identity.subject,
    name: sequence.ref.name,
    version: sequence.doc.version,
    path: qualifiedName(sequence.ref),
    kind: "sequence",
    start,
    end: now(),
    waitTime: Math.max(0, start - request.receivedAt),
    cause: request.cause,
    response: accounting.response,
    logs: accounting.ids,
    annotations,
    duration: accounting.duration,
  });
}
