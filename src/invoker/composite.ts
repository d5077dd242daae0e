// What sequences and conductor compositions share: the trace of the
// activations they ran, and their own record, which lists those activations'
// ids as logs and sums their durations, as OpenWhisk records both.
import { buildActivation, requestedActivation, type ActivationRecord, type ActivationResponse } from "../core/activation.js";
import { getAnnotation, type KeyValue } from "../core/entities.js";
import { LIMITS } from "../core/limits.js";
import type { ResolvedAction } from "../core/resolve.js";
import type { InvokeRequest } from "../ports/invokers.js";

export class CompositeTrace {
  readonly ids: string[] = [];
  duration = 0;

  /** `maxMemory` starts at what the composite itself counts (a conductor's own memory), if anything. */
  constructor(public maxMemory?: number) {}

  add(record: ActivationRecord): void {
    this.ids.push(record.activationId);
    this.duration += record.duration ?? (record.end ?? record.start) - record.start;
    const memory = (getAnnotation(record.annotations, "limits") as { memory?: unknown } | undefined)?.memory;
    if (typeof memory === "number") this.maxMemory = Math.max(this.maxMemory ?? 0, memory);
  }
}

export function compositeRecord(
  action: ResolvedAction,
  request: InvokeRequest,
  run: { start: number; end: number; response: ActivationResponse; trace: CompositeTrace; conductor: boolean },
): ActivationRecord {
  const topmost = request.cause === undefined;
  const annotations: KeyValue[] = [{ key: "topmost", value: topmost }];
  if (run.conductor) annotations.push({ key: "conductor", value: true });
  if (!topmost) annotations.push({ key: "causedBy", value: "sequence" });
  if (action.binding) annotations.push({ key: "binding", value: action.binding });
  if (run.trace.maxMemory !== undefined) {
    // As OpenWhisk writes it: the action's timeout and logs, the largest memory seen, the default concurrency.
    const { timeout, logs } = action.doc.limits;
    annotations.push({ key: "limits", value: { timeout, memory: run.trace.maxMemory, logs, concurrency: LIMITS.concurrency.std } });
  }
  return buildActivation({
    ...requestedActivation(request, action.ref, action.doc.version, run.start),
    kind: "sequence",
    start: run.start,
    end: run.end,
    response: run.response,
    logs: run.trace.ids,
    annotations,
    duration: run.trace.duration,
  });
}
