// The Throttle and ConcurrencyGate ports of the Node host: controllers (any
// number of replicas) take rate tokens in batches from per-namespace
// counters in PostgreSQL, each taking under a row lock, and a lease per
// activation from per-namespace lease rows, each taking under the
// namespace's advisory lock, so replicas never hand out more than the limit.
import type pg from "pg";
import { ConcurrencyLimiter, decideLease, type LeaseAuthority } from "../core/concurrency.js";
import { RateGate, takeTokens, type GrantAuthority, type MinuteCount } from "../core/throttle.js";
import type { ConcurrencyGate, Store, Throttle } from "../ports.js";

/** The class of advisory locks held per namespace while its leases are decided (the second key is the namespace's hash). */
const LEASE_LOCK_CLASS = 0x6577_6c73; // "ewls"

export function postgresAuthority(pool: pg.Pool): GrantAuthority {
  return async (namespace, kind, minute, wanted, limit) => {
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      const inserted = await client.query(
        "INSERT INTO throttle_counts (namespace, kind, minute, issued, denied) VALUES ($1, $2, $3, 0, 0) ON CONFLICT DO NOTHING",
        [namespace, kind, minute],
      );
      if (inserted.rowCount) {
        await client.query("DELETE FROM throttle_counts WHERE namespace = $1 AND kind = $2 AND minute < $3", [namespace, kind, minute]);
      }
      const { rows } = await client.query<MinuteCount>(
        "SELECT issued, denied FROM throttle_counts WHERE namespace = $1 AND kind = $2 AND minute = $3 FOR UPDATE",
        [namespace, kind, minute],
      );
      const { count, grant } = takeTokens(rows[0]!, wanted, limit);
      await client.query("UPDATE throttle_counts SET issued = $4, denied = $5 WHERE namespace = $1 AND kind = $2 AND minute = $3", [
        namespace,
        kind,
        minute,
        count.issued,
        count.denied,
      ]);
      await client.query("COMMIT");
      return grant;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  };
}

export function postgresThrottle(pool: pg.Pool, store: Store): Throttle {
  return new RateGate({ authority: postgresAuthority(pool), limitsOf: (namespace) => store.getNamespaceLimits(namespace) });
}

/**
 * Leases in PostgreSQL. An acquire reads the namespace's leases, applies
 * decideLease and writes its outcome in one transaction holding the
 * namespace's advisory lock; a release is one delete. Times are the
 * replica's clock (skew between replicas shifts expiry by that much, against
 * a TTL of minutes).
 */
export function postgresLeaseAuthority(pool: pg.Pool, now: () => number = Date.now): LeaseAuthority {
  return {
    async acquire(namespace, activationId, ttlMs, limit) {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        await client.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [LEASE_LOCK_CLASS, namespace]);
        const { rows } = await client.query<{ activation_id: string; expires_at: string }>(
          "SELECT activation_id, expires_at FROM concurrency_leases WHERE namespace = $1",
          [namespace],
        );
        const at = now();
        const leases = rows.map((row) => ({ activationId: row.activation_id, expiresAt: Number(row.expires_at) }));
        const decision = decideLease(leases, activationId, at, limit);
        if (decision.expired.length > 0) {
          await client.query("DELETE FROM concurrency_leases WHERE namespace = $1 AND activation_id = ANY($2)", [namespace, decision.expired]);
        }
        if (decision.admitted) {
          await client.query(
            "INSERT INTO concurrency_leases (namespace, activation_id, expires_at) VALUES ($1, $2, $3) " +
              "ON CONFLICT (namespace, activation_id) DO UPDATE SET expires_at = EXCLUDED.expires_at",
            [namespace, activationId, at + ttlMs],
          );
        }
        await client.query("COMMIT");
        return { admitted: decision.admitted, count: decision.count };
      } catch (err) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    async release(namespace, activationId) {
      await pool.query("DELETE FROM concurrency_leases WHERE namespace = $1 AND activation_id = $2", [namespace, activationId]);
    },
  };
}

export function postgresConcurrency(pool: pg.Pool, store: Store): ConcurrencyGate {
  return new ConcurrencyLimiter({ authority: postgresLeaseAuthority(pool), limitsOf: (namespace) => store.getNamespaceLimits(namespace) });
}
