// What operators count, decided once for every host: the labels an
// activation record is counted under, and which namespace limit a 429 came
// from. Labels are bounded sets (outcomes, runtime kinds, limit names):
// never a namespace or an action name, which would grow without end and
// tell one tenant's activity to whoever reads the metrics.
import { getAnnotation } from "./entities.js";
import { StatusCode, type ActivationRecord } from "./activation.js";
import { WhiskError } from "./errors.js";
import type { ThrottledKind } from "./throttle.js";

export type ActivationOutcome = "success" | "application_error" | "developer_error" | "whisk_error";

const OUTCOMES: Record<StatusCode, ActivationOutcome> = {
  [StatusCode.success]: "success",
  [StatusCode.applicationError]: "application_error",
  [StatusCode.developerError]: "developer_error",
  [StatusCode.whiskError]: "whisk_error",
};

export function outcomeOf(statusCode: StatusCode): ActivationOutcome {
  return OUTCOMES[statusCode];
}

/** How an activation is counted. */
export interface ActivationSample {
  outcome: ActivationOutcome;
  /** The runtime kind (`nodejs:20`), `sequence` or `conductor`. */
  kind: string;
  /**
   * Code that ran in an isolate: whether that run started the isolate, and
   * how long it took. Compositions have none: their time is their
   * components', each counted on its own.
   */
  run?: { start: "cold" | "warm"; seconds: number };
}

/** Kinds are checked when an action is stored; anything else stored is counted as one label, not many. */
const KIND_SHAPE = /^[a-z][a-z0-9.:_-]{0,31}$/;

export function activationSample(record: ActivationRecord): ActivationSample {
  const outcome = outcomeOf(record.statusCode);
  const kind = getAnnotation(record.annotations, "kind");
  if (getAnnotation(record.annotations, "conductor") === true) return { outcome, kind: "conductor" };
  if (typeof kind !== "string" || !KIND_SHAPE.test(kind)) return { outcome, kind: "unknown" };
  if (kind === "sequence" || record.duration === undefined) return { outcome, kind };
  // The executor annotates initTime exactly when the run started its isolate.
  const cold = getAnnotation(record.annotations, "initTime") !== undefined;
  return { outcome, kind, run: { start: cold ? "cold" : "warm", seconds: record.duration / 1_000 } };
}

/** The namespace limits that refuse attempts with a 429 (the fields of NamespaceLimits). */
export const THROTTLED_LIMITS = ["invocationsPerMinute", "firesPerMinute", "concurrentInvocations"] as const;
export type ThrottledLimit = (typeof THROTTLED_LIMITS)[number];

export function rateLimitOf(kind: ThrottledKind): ThrottledLimit {
  return kind === "invoke" ? "invocationsPerMinute" : "firesPerMinute";
}

export interface RefusalObserver {
  throttled(limit: ThrottledLimit): void;
}

const isRefusal = (err: unknown) => err instanceof WhiskError && err.status === 429;

/** What the Throttle port does, as far as counting its refusals goes. */
interface RateLimiter {
  admit(namespace: string, kind: ThrottledKind): Promise<void>;
}

/** What the ConcurrencyGate port does. */
interface PlaceLimiter {
  acquire(namespace: string, activationId: string, ttlMs?: number): Promise<string | undefined>;
  hold(namespace: string, activationId: string): Promise<void>;
  release(namespace: string, activationId: string): Promise<void>;
}

/** A rate limiter that also reports each attempt it refuses. */
export function observedThrottle(throttle: RateLimiter, observer: RefusalObserver): RateLimiter {
  return {
    admit: (namespace, kind) =>
      throttle.admit(namespace, kind).catch((err: unknown) => {
        if (isRefusal(err)) observer.throttled(rateLimitOf(kind));
        throw err;
      }),
  };
}

/** A concurrency limiter that also reports each activation it refuses a place. */
export function observedConcurrency(gate: PlaceLimiter, observer: RefusalObserver): PlaceLimiter {
  return {
    acquire: (namespace, activationId, ttlMs) =>
      gate.acquire(namespace, activationId, ttlMs).catch((err: unknown) => {
        if (isRefusal(err)) observer.throttled("concurrentInvocations");
        throw err;
      }),
    hold: (namespace, activationId) =>
      gate.hold(namespace, activationId).catch((err: unknown) => {
        if (isRefusal(err)) observer.throttled("concurrentInvocations");
        throw err;
      }),
    release: (namespace, activationId) => gate.release(namespace, activationId),
  };
}
