// The Throttle port on Cloudflare: one RateGate per controller isolate,
// taking tokens from each namespace's NamespaceThrottle Durable Object.
import { RateGate } from "../core/throttle.js";
import type { Store, Throttle } from "../ports.js";
import type { NamespaceThrottle } from "./throttle-do.js";

let gate: RateGate | undefined;

/** The isolate's gate; its tokens and cached limits outlive a request, the bindings it is given do not matter. */
export function rateGate(namespace: DurableObjectNamespace<NamespaceThrottle>, store: Store): Throttle {
  gate ??= new RateGate({
    authority: (ns, kind, minute, wanted, limit) => namespace.get(namespace.idFromName(ns)).grant(kind, minute, wanted, limit),
    limitsOf: (ns) => store.getNamespaceLimits(ns),
  });
  return gate;
}
