// The limits authority of one namespace on Cloudflare: a Durable Object
// counting the namespace's attempts per kind and minute, and holding the
// leases of its activations in flight, in its own storage (so an evicted
// object forgets neither). Controllers take rate tokens from it in batches
// (RateGate in src/core/throttle.ts) and places in one round trip per
// change (ConcurrencyLimiter in src/core/concurrency.ts); the rules are
// those modules', applied here.
import { DurableObject } from "cloudflare:workers";
import { settleLeases, type Lease, type LeaseChange, type LeaseGrant, type Settlement } from "../core/concurrency.js";
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

  /** Ends the leases `change` releases, then takes or extends those it acquires while the namespace has room. */
  settleLeases(change: LeaseChange): Settlement {
    const kv = this.ctx.storage.kv;
    const now = Date.now();
    const leases: Lease[] = [];
    for (const [key, expiresAt] of kv.list<number>({ prefix: LEASE })) leases.push({ activationId: key.slice(LEASE.length), expiresAt });
    const decision = settleLeases(leases, change, now);
    for (const id of decision.expired) kv.delete(LEASE + id);
    for (const id of change.release) kv.delete(LEASE + id);
    for (const id of decision.admitted) kv.put(LEASE + id, now + change.ttlMs);
    return { admitted: decision.admitted, count: decision.count, pooled: decision.pooled };
  }

  /** One activation's place among the namespace's `limit`, held until released or `ttlMs` from now. */
  acquireLease(activationId: string, ttlMs: number, limit: number): LeaseGrant {
    const answer = this.settleLeases({ release: [], acquire: [activationId], ttlMs, limit });
    return { admitted: answer.admitted.length > 0, count: answer.count };
  }

  /** Kept for controllers of the previous deployment while a new one rolls out (they release by id). */
  releaseLease(activationId: string): void {
    this.ctx.storage.kv.delete(LEASE + activationId);
  }
}
