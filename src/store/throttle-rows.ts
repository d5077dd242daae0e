// The Node host's throttle tables (src/node/migrations/0002_throttle.sql,
// 0003_concurrency.sql): per-minute rate counters and per-activation
// concurrency leases. PostgreSQL only — row and advisory locks inside a
// transaction the caller holds; Cloudflare keeps the same state in the
// NamespaceThrottle Durable Object. What to grant or admit is decided in
// core (takeTokens, decideLease); these only read and write the rows.
import type { Lease } from "../core/concurrency.js";
import type { MinuteCount, ThrottledKind } from "../core/throttle.js";
import type { SqlQueries } from "../ports/sql-database.js";

/** The class of advisory locks held per namespace while its leases are decided (the second key is the namespace's hash). */
const LEASE_LOCK_CLASS = 0x6577_6c73; // "ewls"

/**
 * Locks and answers a namespace's count for a minute, creating it at zero
 * when this is the minute's first take (and then dropping the namespace's
 * counts of earlier minutes).
 */
export async function lockMinuteCount(tx: SqlQueries, namespace: string, kind: ThrottledKind, minute: number): Promise<MinuteCount> {
  const inserted = await tx.run(
    "INSERT INTO throttle_counts (namespace, kind, minute, issued, denied) VALUES (?, ?, ?, 0, 0) ON CONFLICT DO NOTHING",
    [namespace, kind, minute],
  );
  if (inserted.changes) {
    await tx.run("DELETE FROM throttle_counts WHERE namespace = ? AND kind = ? AND minute < ?", [namespace, kind, minute]);
  }
  const rows = await tx.all<MinuteCount>(
    "SELECT issued, denied FROM throttle_counts WHERE namespace = ? AND kind = ? AND minute = ? FOR UPDATE",
    [namespace, kind, minute],
  );
  return rows[0]!;
}

export async function saveMinuteCount(tx: SqlQueries, namespace: string, kind: ThrottledKind, minute: number, count: MinuteCount): Promise<void> {
  await tx.run("UPDATE throttle_counts SET issued = ?, denied = ? WHERE namespace = ? AND kind = ? AND minute = ?", [
    count.issued,
    count.denied,
    namespace,
    kind,
    minute,
  ]);
}

/** Takes the namespace's lease lock until the transaction ends, then answers its leases. */
export async function lockLeases(tx: SqlQueries, namespace: string): Promise<Lease[]> {
  await tx.all("SELECT pg_advisory_xact_lock(?, hashtext(?))", [LEASE_LOCK_CLASS, namespace]);
  const rows = await tx.all<{ activation_id: string; expires_at: number | string }>(
    "SELECT activation_id, expires_at FROM concurrency_leases WHERE namespace = ?",
    [namespace],
  );
  return rows.map((row) => ({ activationId: row.activation_id, expiresAt: Number(row.expires_at) }));
}

export async function deleteLeases(tx: SqlQueries, namespace: string, activationIds: readonly string[]): Promise<void> {
  if (activationIds.length === 0) return;
  await tx.run("DELETE FROM concurrency_leases WHERE namespace = ? AND activation_id = ANY(?)", [namespace, activationIds]);
}

/** Holds (or extends) places, an activation's or a limiter's, until `expiresAt`: one statement however many. */
export async function putLeases(tx: SqlQueries, namespace: string, activationIds: readonly string[], expiresAt: number): Promise<void> {
  if (activationIds.length === 0) return;
  await tx.run(
    "INSERT INTO concurrency_leases (namespace, activation_id, expires_at) SELECT ?, id, ? FROM unnest(?::text[]) AS id " +
      "ON CONFLICT (namespace, activation_id) DO UPDATE SET expires_at = EXCLUDED.expires_at",
    [namespace, expiresAt, activationIds],
  );
}
