// The limits authority of one namespace on Cloudflare: a Durable Object
// counting the namespace's attempts per kind and minute, and holding the
// leases of its activations in flight, in its own storage (so an evicted
// object forgets neither). Controllers take rate tokens from it in batches
// (RateGate in src/core/throttle.ts) and a lease per activation
// (ConcurrencyLimiter in src/core/concurrency.ts); the rules are those
// modules', applied here.
import { DurableObject } from "cloudflare:workers";
import { decideLease, type Lease, type LeaseGrant } from "../core/concurrency.js";
import { takeTokens, type Grant, type MinuteCount, type ThrottledKind } from "../core/throttle.js";
import type { Env } from "./env.js";

const LEASE = "lease:";

export class NamespaceThrottle extends DurableObject<Env> {
  grant(kind: ThrottledKind, minute: number, wanted: number, limit: number): Grant {
    const key = `${kind}:${minute}`;
    const kv = this.ctx.storage.kv;
    let current = kv.get<MinuteCount>(key);
    if (!current) {
      for (const [old] of kv.list({ prefix: `${kind}:` })) kv.delete(old);
      current = { issued: 0, denied: 0 };
    }
    const { count, grant } = takeTokens(current, wanted, limit);
    kv.put(key, count);
    return grant;
  }

  /** A place for one activation among the namespace's `limit` concurrent ones, held until released or `ttlMs` from now. */
  acquireLease(activationId: string, ttlMs: number, limit: number): LeaseGrant {
    const kv = this.ctx.storage.kv;
    const now = Date.now();
    const leases: Lease[] = [];
    for (const [key, expiresAt] of kv.list<number>({ prefix: LEASE })) leases.push({ activationId: key.slice(LEASE.length), expiresAt });
    const decision = decideLease(leases, activationId, now, limit);
    for (const id of decision.expired) kv.delete(LEASE + id);
    if (decision.admitted) kv.put(LEASE + activationId, now + ttlMs);
    return { admitted: decision.admitted, count: decision.count };
  }

  releaseLease(activationId: string): void {
    this.ctx.storage.kv.delete(LEASE + activationId);
  }
}
