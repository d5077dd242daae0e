// The limits authority of one namespace on Cloudflare: a Durable Object
// counting the namespace's attempts per kind and minute, and holding the
// leases of its activations in flight, in its own storage (so an evicted
// object forgets neither). Controllers take rate tokens from it in batches
// (RateGate in src/core/throttle.ts) and places in one round trip per
// change (ConcurrencyLimiter in src/core/concurrency.ts); the rules are
// those modules', applied here.
import { DurableObject } from "cloudflare:workers";
import type { LeaseChange, LeaseGrant, Settlement } from "../core/concurrency.js";
import { LeaseBook } from "../core/lease-book.js";
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
   * The leases as stored, kept in memory as a LeaseBook: every settle needs
   * the namespace's count in flight, and listing a few hundred from storage,
   * or even passing over them in memory, on each of them cost more than the
   * rest of a queued activation's admission. Storage stays the record; the
   * book is read from it once per object lifetime and written through.
   */
  private book: LeaseBook | undefined;

  private leaseBook(): LeaseBook {
    this.book ??= new LeaseBook(
      [...this.ctx.storage.kv.list<number>({ prefix: LEASE })].map(([key, expiresAt]) => [key.slice(LEASE.length), expiresAt] as const),
    );
    return this.book;
  }

  /** Ends the leases `change` releases, then takes or extends those it acquires while the namespace has room. */
  settleLeases(change: LeaseChange): Settlement {
    const kv = this.ctx.storage.kv;
    const settled = this.leaseBook().settle(change, Date.now());
    try {
      for (const id of settled.ended) kv.delete(LEASE + id);
      for (const id of settled.admitted) kv.put(LEASE + id, settled.expiresAt);
    } catch (err) {
      // A failed write leaves storage as it is: read it again next time.
      this.book = undefined;
      throw err;
    }
    return { admitted: settled.admitted, count: settled.count, pooled: settled.pooled };
  }

  /** One activation's place among the namespace's `limit`, held until released or `ttlMs` from now. */
  acquireLease(activationId: string, ttlMs: number, limit: number): LeaseGrant {
    const answer = this.settleLeases({ release: [], acquire: [activationId], ttlMs, limit });
    return { admitted: answer.admitted.length > 0, count: answer.count };
  }

  /** Kept for controllers of the previous deployment while a new one rolls out (they release by id). */
  releaseLease(activationId: string): void {
    this.leaseBook().remove(activationId);
    this.ctx.storage.kv.delete(LEASE + activationId);
  }
}
