// Running a sequence: components in order, each an activation of its own
// caused by the sequence, the result of one the parameters of the next, the
// first failure ending the chain and becoming the sequence's response
// (its record: composite.ts).
import { activationResponse, StatusCode, type ActivationRecord } from "../core/activation.js";
import type { SequenceExec } from "../core/entities.js";
import { Messages, WhiskError } from "../core/errors.js";
import { parseQualifiedName, type EntityRef } from "../core/names.js";
import type { ResolvedAction } from "../core/resolve.js";
import type { Identity } from "../ports/identity.js";
import type { InvokeRequest } from "../ports/invokers.js";
import { compositeRecord, CompositeTrace } from "./composite.js";

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
  exec: SequenceExec,
  request: InvokeRequest,
  invokeComponent: ComponentInvoker,
  now: () => number,
): Promise<ActivationRecord> {
  const start = now();
  const trace = new CompositeTrace();
  let response = activationResponse(StatusCode.success, request.params);

  for (const component of exec.components) {
    const input = response.result;
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
      response = missing
        ? activationResponse(StatusCode.applicationError, { error: Messages.sequenceComponentNotFound })
        : activationResponse(StatusCode.whiskError, { error: Messages.sequenceActivationFailure });
      break;
    }
    trace.add(record);
    response = record.response;
    if (!record.response.success) break;
  }

  return compositeRecord(sequence, request, { start, end: now(), response, trace, conductor: false });
}
