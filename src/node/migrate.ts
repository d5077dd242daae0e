// Applies migrations/*.sql to PostgreSQL in name order, each once, as
// `wrangler d1 migrations apply` does for D1, then the Node host's own
// src/node/migrations/*.sql. Controllers start side by side,
// so the whole run holds an advisory lock: one applies, the others wait and
// then find nothing left to do.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type pg from "pg";

/** Any fixed 64-bit number; it names the lock among others an installation may hold. */
const MIGRATION_LOCK = 0x6564_6765_7768; // "edgewh"

/** The platform's portable migrations, then the Node host's own (its alarm table). */
export const MIGRATION_DIRS: readonly { label: string; dir: string }[] = [
  { label: "", dir: fileURLToPath(new URL("../../migrations/", import.meta.url)) },
  { label: "node/", dir: fileURLToPath(new URL("./migrations/", import.meta.url)) },
];

/** Applies the migrations not yet recorded; answers the names it applied. */
export async function applyMigrations(pool: pg.Pool, dirs = MIGRATION_DIRS): Promise<string[]> {
  const client = await pool.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
    await client.query(
      "CREATE TABLE IF NOT EXISTS edgewhisk_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    );
    const done = new Set((await client.query<{ name: string }>("SELECT name FROM edgewhisk_migrations")).rows.map((r) => r.name));
    const applied: string[] = [];
    for (const { label, dir } of dirs) {
      const files = (await readdir(dir)).filter((file) => file.endsWith(".sql")).sort();
      for (const file of files) {
        const name = label + file;
        if (done.has(name)) continue;
        await applyOne(client, name, await readFile(join(dir, file), "utf8"));
        applied.push(name);
      }
    }
    return applied;
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
}

async function applyOne(client: pg.PoolClient, name: string, text: string): Promise<void> {
  try {
    await client.query("BEGIN");
    await client.query(text);
    await client.query("INSERT INTO edgewhisk_migrations (name, applied_at) VALUES ($1, $2)", [name, Date.now()]);
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK");
    throw new Error(`migration ${name} failed: ${(err as Error).message}`);
  }
}
