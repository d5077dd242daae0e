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

  /**
   * The leases as stored, mirrored in memory: every settle needs them all
   * (the namespace's count in flight), and listing a few hundred from storage
   * on each of them cost more than the rest of a queued activation's
   * admission. Storage stays the record; the mirror is read from it once per
   * object lifetime and written through.
   */
  private leases: Map<string, number> | undefined;

  private leaseMirror(): Map<string, number> {
    if (!this.leases) {
      this.leases = new Map();
      for (const [key, expiresAt] of this.ctx.storage.kv.list<number>({ prefix: LEASE })) this.leases.set(key.slice(LEASE.length), expiresAt);
    }
    return this.leases;
  }

  /** Ends the leases `change` releases, then takes or extends those it acquires while the namespace has room. */
  settleLeases(change: LeaseChange): Settlement {
    const kv = this.ctx.storage.kv;
    const held = this.leaseMirror();
    const now = Date.now();
    const leases: Lease[] = [];
    for (const [activationId, expiresAt] of held) leases.push({ activationId, expiresAt });
    const decision = settleLeases(leases, change, now);
    try {
      for (const id of [...decision.expired, ...change.release]) {
        if (!held.has(id)) continue;
        kv.delete(LEASE + id);
        held.delete(id);
      }
      for (const id of decision.admitted) {
        kv.put(LEASE + id, now + change.ttlMs);
        held.set(id, now + change.ttlMs);
      }
    } catch (err) {
      // A failed write leaves storage as it is: read it again next time.
      this.leases = undefined;
      throw err;
    }
    return { admitted: decision.admitted, count: decision.count, pooled: decision.pooled };
  }

  /** One activation's place among the namespace's `limit`, held until released or `ttlMs` from now. */
  acquireLease(activationId: string, ttlMs: number, limit: number): LeaseGrant {
    const answer = this.settleLeases({ release: [], acquire: [activationId], ttlMs, limit });
    return { admitted: answer.admitted.length > 0, count: answer.count };
  }

  /** Kept for controllers of the previous deployment while a new one rolls out (they release by id). */
  releaseLease(activationId: string): void {
    this.leaseMirror().delete(activationId);
    this.ctx.storage.kv.delete(LEASE + activationId);
  }
}
