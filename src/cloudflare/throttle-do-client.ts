// The Throttle and ConcurrencyGate ports on Cloudflare: one RateGate and one
// ConcurrencyLimiter per isolate, asking each namespace's NamespaceThrottle
// Durable Object for rate tokens and places.
import { waitUntil } from "cloudflare:workers";
import { ConcurrencyLimiter } from "../core/concurrency.js";
import { RateGate } from "../core/throttle.js";
import type { ConcurrencyGate, Throttle } from "../ports/admission.js";
import type { Store } from "../ports/store.js";
import type { NamespaceThrottle } from "./throttle-do.js";

let gate: RateGate | undefined;
let invokerGate: RateGate | undefined;
let limiter: ConcurrencyLimiter | undefined;

const ids = new Map<string, DurableObjectId>();
const MAX_IDS = 1_000;

/**
 * A namespace's object, by an id cached per isolate: deriving one hashes the
 * name, and a queued activation asks its namespace's object twice (its place
 * taken, then given back). Stubs are not cached: they belong to a request.
 */
function throttleOf(namespace: DurableObjectNamespace<NamespaceThrottle>, name: string): DurableObjectStub<NamespaceThrottle> {
  let id = ids.get(name);
  if (!id) {
    if (ids.size >= MAX_IDS) ids.delete(ids.keys().next().value!);
    id = namespace.idFromName(name);
    ids.set(name, id);
  }
  return namespace.get(id);
}

/** The isolate's gate; its tokens and cached limits outlive a request, the bindings it is given do not matter. */
export function rateGate(namespace: DurableObjectNamespace<NamespaceThrottle>, store: Store): Throttle {
  gate ??= new RateGate({
    authority: (ns, kind, minute, wanted, limit) => throttleOf(namespace, ns).grant(kind, minute, wanted, limit),
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
    authority: (ns, kind, minute, wanted, limit) => throttleOf(namespace, ns).grant(kind, minute, wanted, limit),
    limitsOf: (ns) => store.getNamespaceLimits(ns),
    batch: () => 1,
  });
  return invokerGate;
}

/**
 * The isolate's concurrency gate: limits cached as rateGate's are; a stub
 * per call (a stub belongs to a request). Its places outlive a request (a
 * blocking invoke hands its place to the next one); giving back an unused
 * one is kept alive by the request that left it unused.
 */
export function concurrencyGate(namespace: DurableObjectNamespace<NamespaceThrottle>, store: Store): ConcurrencyGate {
  limiter ??= new ConcurrencyLimiter({
    authority: { settle: (ns, change) => throttleOf(namespace, ns).settleLeases(change) },
    limitsOf: (ns) => store.getNamespaceLimits(ns),
    keepAlive: waitUntil,
  });
  return limiter;
}
