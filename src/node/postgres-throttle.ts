// The Throttle and ConcurrencyGate ports of the Node host: controllers (any
// number of replicas) take rate tokens in batches from per-namespace
// counters in PostgreSQL, each taking under a row lock, and leases of
// places (several at a time, lent to queued activations too) from
// per-namespace lease rows, each taking under the namespace's advisory
// lock, so replicas never hand out more than the limit.
// The rows and their SQL are src/store/throttle-rows.ts; this wires them to
// core's decisions inside one transaction each.
import type pg from "pg";
import { ConcurrencyLimiter, settleLeases, type PlaceReturns } from "../core/concurrency.js";
import { RateGate, takeTokens } from "../core/throttle.js";
import type { GrantAuthority, LeaseAuthority, Throttle } from "../ports/admission.js";
import type { Store } from "../ports/store.js";
import { deleteLeases, lockLeases, lockMinuteCount, putLeases, saveMinuteCount } from "../store/throttle-rows.js";
import { PostgresSql } from "./postgres.js";

export function postgresAuthority(pool: pg.Pool): GrantAuthority {
  const sql = new PostgresSql(pool);
  return (namespace, kind, minute, wanted, limit) =>
    sql.transaction(async (tx) => {
      const { count, grant } = takeTokens(await lockMinuteCount(tx, namespace, kind, minute), wanted, limit);
      await saveMinuteCount(tx, namespace, kind, minute, count);
      return grant;
    });
}

export function postgresThrottle(pool: pg.Pool, store: Store): Throttle {
  return new RateGate({ authority: postgresAuthority(pool), limitsOf: (namespace) => store.getNamespaceLimits(namespace) });
}

/**
 * Leases in PostgreSQL. A settle reads the namespace's leases, applies
 * settleLeases and writes its outcome in one transaction holding the
 * namespace's advisory lock; a settle that only releases is one delete.
 * Times are the replica's clock (skew between replicas shifts expiry by that
 * much, against a TTL of minutes).
 */
export function postgresLeaseAuthority(pool: pg.Pool, now: () => number = Date.now): LeaseAuthority {
  const sql = new PostgresSql(pool);
  return {
    settle: async (namespace, change) => {
      if (change.acquire.length === 0) {
        await deleteLeases(sql, namespace, change.release);
        return { admitted: [], count: 0, pooled: 0 };
      }
      return sql.transaction(async (tx) => {
        const leases = await lockLeases(tx, namespace);
        const at = now();
        const decision = settleLeases(leases, change, at);
        await deleteLeases(tx, namespace, [...decision.expired, ...change.release]);
        await putLeases(tx, namespace, decision.admitted, at + change.ttlMs);
        return { admitted: decision.admitted, count: decision.count, pooled: decision.pooled };
      });
    },
  };
}

/** With `returns` (place-returns.ts), queued activations are lent this limiter's places instead of taking leases of their own. */
export function postgresConcurrency(pool: pg.Pool, store: Store, returns?: PlaceReturns): ConcurrencyLimiter {
  return new ConcurrencyLimiter({
    authority: postgresLeaseAuthority(pool),
    limitsOf: (namespace) => store.getNamespaceLimits(namespace),
    ...(returns ? { returns } : {}),
  });
}
