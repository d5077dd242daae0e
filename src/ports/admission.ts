// The admission ports: per-namespace rate limits (Throttle) and concurrent
// activations (ConcurrencyGate). Both hosts implement them with core's
// RateGate and ConcurrencyLimiter over an authority of their own that keeps
// the counts (the NamespaceThrottle Durable Object on Cloudflare,
// src/cloudflare/throttle-do-client.ts; PostgreSQL rows on Kubernetes,
// src/node/postgres-throttle.ts). Those authority ports are defined in core
// beside the rules that use them (core depends on nothing outside it) and
// re-exported here, so every port can be found in src/ports.
import type { ThrottledKind } from "../core/throttle.js";
export type { Grant, GrantAuthority } from "../core/throttle.js";
export type { LeaseAuthority, LeaseChange, Settlement } from "../core/concurrency.js";

/** Per-namespace rate limits (see src/core/throttle.ts). */
export interface Throttle {
  /** Charges one invoke or trigger fire to `namespace`; throws a 429 WhiskError when its minute's limit is spent. */
  admit(namespace: string, kind: ThrottledKind): Promise<void>;
}

/**
 * Per-namespace concurrent activations (`concurrentInvocations`; the rule is
 * in src/core/concurrency.ts). An activation holds a place from admission
 * until it ends; a place not released expires by itself.
 */
export interface ConcurrencyGate {
  /**
   * Takes a place for the activation that any process can release (expiring
   * after `ttlMs`); answers the name to release it by when that is not the
   * activation's id (a place the gate handed over), which the activation's
   * request then carries (`lease`). Throws OpenWhisk's 429 when the
   * namespace has its limit in flight. Idempotent per id.
   */
  acquire(namespace: string, activationId: string, ttlMs?: number): Promise<string | undefined>;
  /**
   * Takes a place for an activation whose end this process sees (a blocking
   * invoke, a web request); only this same gate can release it. Cheaper than
   * acquire: the gate keeps its places for the next activation. Throws as
   * acquire does; idempotent per id.
   */
  hold(namespace: string, activationId: string): Promise<void>;
  /** Frees the place of the activation, or the one a lease `acquire` answered names (nothing happens when it holds none). */
  release(namespace: string, activationIdOrLease: string): Promise<void>;
}
