// The Throttle and ConcurrencyGate ports on Cloudflare: one RateGate and one
// ConcurrencyLimiter per isolate, asking each namespace's NamespaceThrottle
// Durable Object for rate tokens and activation leases.
import { ConcurrencyLimiter } from "../core/concurrency.js";
import { RateGate } from "../core/throttle.js";
import type { ConcurrencyGate, Throttle } from "../ports/admission.js";
import type { Store } from "../ports/store.js";
import type { NamespaceThrottle } from "./throttle-do.js";

let gate: RateGate | undefined;
let invokerGate: RateGate | undefined;
let limiter: ConcurrencyLimiter | undefined;

/** The isolate's gate; its tokens and cached limits outlive a request, the bindings it is given do not matter. */
export function rateGate(namespace: DurableObjectNamespace<NamespaceThrottle>, store: Store): Throttle {
  gate ??= new RateGate({
    authority: (ns, kind, minute, wanted, limit) => namespace.get(namespace.idFromName(ns)).grant(kind, minute, wanted, limit),
    limitsOf: (ns) => store.getNamespaceLimits(ns),
  });
  return gate;
}

/**
 * The gate of invoker Durable Objects (web requests are charged there, once
 * their action is known to run): one token per request, as there is an
 * invoker per action and tokens one took but did not spend would be lost to
 * the namespace's minute.
 */
export function invokerRateGate(namespace: DurableObjectNamespace<NamespaceThrottle>, store: Store): Throttle {
  invokerGate ??= new RateGate({
    authority: (ns, kind, minute, wanted, limit) => namespace.get(namespace.idFromName(ns)).grant(kind, minute, wanted, limit),
    limitsOf: (ns) => store.getNamespaceLimits(ns),
    batch: () => 1,
  });
  return invokerGate;
}

/** The isolate's concurrency gate: limits cached as rateGate's are; a stub per call (a stub belongs to a request). */
export function concurrencyGate(namespace: DurableObjectNamespace<NamespaceThrottle>, store: Store): ConcurrencyGate {
  limiter ??= new ConcurrencyLimiter({
    authority: {
      acquire: (ns, activationId, ttlMs, limit) => namespace.get(namespace.idFromName(ns)).acquireLease(activationId, ttlMs, limit),
      release: async (ns, activationId) => {
        await namespace.get(namespace.idFromName(ns)).releaseLease(activationId);
      },
    },
    limitsOf: (ns) => store.getNamespaceLimits(ns),
  });
  return limiter;
}
