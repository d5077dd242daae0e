// Conductor actions (annotation `conductor`): the action itself decides, step
// by step, which action runs next. Each step of the conductor is an
// activation of its own, alternating with the component activations it asks
// for; all are caused by the composition, whose record lists their ids as
// its logs and sums their durations, as OpenWhisk records compositions.
import { activationResponse, buildActivation, whiskError, StatusCode, type ActivationRecord, type ActivationResponse } from "../core/activation.js";
import { getAnnotation, isTruthyAnnotation, type KeyValue } from "../core/entities.js";
import { Messages, WhiskError } from "../core/errors.js";
import { LIMITS } from "../core/limits.js";
import { qualifiedName, resolveQualifiedName } from "../core/names.js";
import type { ResolvedAction } from "../core/resolve.js";
import type { InvokeRequest } from "../ports.js";
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

class Session {
  readonly logs: string[] = [];
  duration = 0;
  maxMemory: number;
  state: Dictionary | undefined;
  components = 0;
  steps = 0;

  constructor(conductor: ResolvedAction) {
    this.maxMemory = conductor.doc.limits.memory;
  }

  track(record: ActivationRecord): void {
    this.logs.push(record.activationId);
    this.duration += record.duration ?? (record.end ?? record.start) - record.start;
    const memory = (getAnnotation(record.annotations, "limits") as { memory?: unknown } | undefined)?.memory;
    if (typeof memory === "number") this.maxMemory = Math.max(this.maxMemory, memory);
  }
}

export async function runComposition(conductor: ResolvedAction, request: InvokeRequest, deps: CompositionDeps): Promise<ActivationRecord> {
  const start = deps.now();
  const session = new Session(conductor);
  const namespace = request.identity.namespace;
  const limit = LIMITS.sequenceLength;
  const caused = { transactionId: request.transactionId, identity: request.identity, cause: request.activationId, apiHost: request.apiHost };

  let payload: Dictionary = request.params;
  let response: ActivationResponse;
  for (;;) {
    if (session.steps > 2 * limit) {
      response = activationResponse(StatusCode.applicationError, { error: Messages.compositionIsTooLong });
      break;
    }
    session.steps++;
    let step: ActivationRecord;
    try {
      step = await deps.runStep({
        ...caused,
        activationId: crypto.randomUUID().replaceAll("-", ""),
        action: request.action,
        params: { ...payload, ...session.state },
        receivedAt: deps.now(),
        extraAnnotations: [{ key: "causedBy", value: "sequence" }],
      });
    } catch {
      response = whiskError(Messages.compositionActivationFailure);
      break;
    }
    session.track(step);
    const result: Dictionary = isDictionary(step.response.result) ? step.response.result : {};
    const params = boxed(result.params, "value");
    session.state = boxed(result.state, "state");
    if (!("action" in result)) {
      response = activationResponse(step.response.statusCode, params ?? result);
      break;
    }
    const next = typeof result.action === "string" ? resolveQualifiedName(result.action, namespace) : undefined;
    if (!next) {
      payload = { error: Messages.compositionComponentInvalid(JSON.stringify(result.action)) };
      continue;
    }
    if (session.components >= limit) {
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
    session.components++;
    session.track(component);
    payload = isDictionary(component.response.result) ? component.response.result : {};
  }

  const topmost = request.cause === undefined;
  const annotations: KeyValue[] = [{ key: "topmost", value: topmost }, { key: "conductor", value: true }];
  if (!topmost) annotations.push({ key: "causedBy", value: "sequence" });
  if (conductor.binding) annotations.push({ key: "binding", value: conductor.binding });
  // OpenWhisk writes the conductor's timeout and logs, the largest memory seen, and the default concurrency.
  const { timeout, logs } = conductor.doc.limits;
  annotations.push({ key: "limits", value: { timeout, memory: session.maxMemory, logs, concurrency: LIMITS.concurrency.std } });
  return buildActivation({
    activationId: request.activationId,
    namespace,
    subject: request.identity.subject,
    name: conductor.ref.name,
    version: conductor.doc.version,
    path: qualifiedName(conductor.ref),
    kind: "sequence",
    start,
    end: deps.now(),
    waitTime: Math.max(0, start - request.receivedAt),
    cause: request.cause,
    response,
    logs: session.logs,
    annotations,
    duration: session.duration,
  });
}
