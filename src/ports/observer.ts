// The observer port: what a host counts for its operators. src/core/metrics.ts
// decides the labels; the Node host translates them into Prometheus metrics.
// Optional wherever it is taken: without one nothing is counted (the
// Cloudflare host passes none).
import type { ActivationRecord } from "../core/activation.js";
import type { ThrottledLimit } from "../core/metrics.js";

export interface ActivationObserver {
  /** An activation record this process made was recorded. */
  recorded(record: ActivationRecord): void;
  /** A namespace limit refused an attempt (a 429). */
  throttled(limit: ThrottledLimit): void;
}
