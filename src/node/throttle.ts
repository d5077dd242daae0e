// The Throttle port of the Node host: controllers (any number of replicas)
// take tokens in batches from per-namespace counters in PostgreSQL, each
// taking under a row lock so replicas never hand out more than the limit.
import type pg from "pg";
import { RateGate, takeTokens, type GrantAuthority, type MinuteCount } from "../core/throttle.js";
import type { Store, Throttle } from "../ports.js";

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
