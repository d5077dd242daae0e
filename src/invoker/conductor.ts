// Conductor actions (annotation `conductor`): the action itself decides, step
// by step, which action runs next. Each step of the conductor is an
// activation of its own, alternating with the component activations it asks
// for; all are caused by the composition (its record: composite.ts).
import {
  activationResponse,
  newActivationId,
  whiskError,
  StatusCode,
  type ActivationRecord,
  type ActivationResponse,
} from "../core/activation.js";
import { isTruthyAnnotation, type KeyValue } from "../core/entities.js";
import { Messages, WhiskError } from "../core/errors.js";
import { LIMITS } from "../core/limits.js";
import { qualifiedName, resolveQualifiedName } from "../core/names.js";
import type { ResolvedAction } from "../core/resolve.js";
import type { InvokeRequest } from "../ports/invokers.js";
import { compositeRecord, CompositeTrace } from "./composite.js";
import type { ComponentInvoker } from "./sequence.js";

export function isConductor(annotations: readonly KeyValue[]): boolean {
  return isTruthyAnnotation(annotations, "conductor");
}

export interface CompositionDeps {
  invokeComponent: ComponentInvoker;
  /** Runs one step of the conductor as a plain activation of it, and records it. */
  runStep: (request: InvokeRequest) => Promise<ActivationRecord>;
  now: () => number;
}

type Dictionary = Record<string, unknown>;

const isDictionary = (value: unknown): value is Dictionary => value !== null && typeof value === "object" && !Array.isArray(value);

/** Non-dictionary `params` and `state` are boxed, as OpenWhisk boxes them. */
const boxed = (value: unknown, field: string): Dictionary | undefined =>
  value === undefined ? undefined : isDictionary(value) ? value : { [field]: value };

export async function runComposition(conductor: ResolvedAction, request: InvokeRequest, deps: CompositionDeps): Promise<ActivationRecord> {
  const start = deps.now();
  const trace = new CompositeTrace(conductor.doc.limits.memory);
  let state: Dictionary | undefined;
  let components = 0;
  let steps = 0;
  const namespace = request.identity.namespace;
  const limit = LIMITS.sequenceLength;
  const caused = { transactionId: request.transactionId, identity: request.identity, cause: request.activationId, apiHost: request.apiHost };

  let payload: Dictionary = request.params;
  let response: ActivationResponse;
  for (;;) {
    if (steps > 2 * limit) {
      response = activationResponse(StatusCode.applicationError, { error: Messages.compositionIsTooLong });
      break;
    }
    steps++;
    let step: ActivationRecord;
    try {
      step = await deps.runStep({
        ...caused,
        activationId: newActivationId(),
        action: request.action,
        params: { ...payload, ...state },
        receivedAt: deps.now(),
        extraAnnotations: [{ key: "causedBy", value: "sequence" }],
      });
    } catch {
      response = whiskError(Messages.compositionActivationFailure);
      break;
    }
    trace.add(step);
    const result: Dictionary = isDictionary(step.response.result) ? step.response.result : {};
    const params = boxed(result.params, "value");
    state = boxed(result.state, "state");
    if (!("action" in result)) {
      response = activationResponse(step.response.statusCode, params ?? result);
      break;
    }
    const next = typeof result.action === "string" ? resolveQualifiedName(result.action, namespace) : undefined;
    if (!next) {
      payload = { error: Messages.compositionComponentInvalid(JSON.stringify(result.action)) };
      continue;
    }
    if (components >= limit) {
      payload = { error: Messages.compositionIsTooLong };
      continue;
    }
    let component: ActivationRecord;
    try {
      component = await deps.invokeComponent({ ...caused, action: next, params: params ?? {} });
    } catch (err) {
      if (err instanceof WhiskError && (err.status === 404 || err.status === 403)) {
        const name = qualifiedName(next);
        payload = { error: err.status === 404 ? Messages.compositionComponentNotFound(name) : Messages.compositionComponentNotAccessible(name) };
        continue;
      }
      response = whiskError(Messages.compositionActivationFailure);
      break;
    }
    components++;
    trace.add(component);
    payload = isDictionary(component.response.result) ? component.response.result : {};
  }

  return compositeRecord(conductor, request, { start, end: deps.now(), response, trace, conductor: true });
}
