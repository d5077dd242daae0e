// The real PostgreSQL and NATS JetStream the Node host is tested against.
// URLs come from EDGEWHISK_TEST_DATABASE_URL / EDGEWHISK_TEST_NATS_URL
// (.ci/services.sh prints them) or the usual local defaults. Without them a
// developer's run skips these tests with a message; CI fails instead.
// Each run gets its own database and NATS stream, dropped afterwards.
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import pg from "pg";
import { applyMigrations } from "../../src/node/migrate.js";
import { createPool, PostgresSql } from "../../src/node/postgres.js";
import { SqlStore } from "../../src/store/sql-store.js";
import { membershipBucket } from "../../src/node/membership.js";

export interface TestServices {
  databaseUrl: string;
  natsUrl: string;
}

const DATABASE_URL = process.env.EDGEWHISK_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const NATS_URL = process.env.EDGEWHISK_TEST_NATS_URL ?? "nats://127.0.0.1:4222";

async function reachPostgres(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return undefined;
  } catch (err) {
    return `PostgreSQL at ${DATABASE_URL}: ${(err as Error).message}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function reachNats(): Promise<string | undefined> {
  try {
    const nc = await connect({ servers: NATS_URL, timeout: 3_000, reconnect: false });
    try {
      await (await jetstreamManager(nc)).getAccountInfo();
    } finally {
      await nc.close();
    }
    return undefined;
  } catch (err) {
    return `NATS JetStream at ${NATS_URL}: ${(err as Error).message}`;
  }
}

let probe: Promise<TestServices | undefined> | undefined;

/** The services, or undefined (after saying why) when this machine has none. */
export function testServices(): Promise<TestServices | undefined> {
  probe ??= (async () => {
    const problems = (await Promise.all([reachPostgres(), reachNats()])).filter((p) => p !== undefined);
    if (problems.length === 0) return { databaseUrl: DATABASE_URL, natsUrl: NATS_URL };
    const message = `Node host tests need PostgreSQL and NATS JetStream (run \`eval "$(sudo bash .ci/services.sh)"\`): ${problems.join("; ")}`;
    if (process.env.CI) throw new Error(message);
    console.warn(`SKIPPED: ${message}`);
    return undefined;
  })();
  return probe;
}

export const uniqueSuffix = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

/** A fresh database for one test file; `drop` removes it. */
export async function createTestDatabase(services: TestServices): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `edgewhisk_test_${uniqueSuffix()}`;
  const admin = new pg.Client({ connectionString: services.databaseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(services.databaseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: services.databaseUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A database of its own with migrations/ applied, as a controller starts it; `close` ends the pool and drops the database. */
export async function migratedStore(services: TestServices): Promise<{ pool: pg.Pool; store: SqlStore; close(): Promise<void> }> {
  const database = await createTestDatabase(services);
  const pool = createPool(database.url);
  await applyMigrations(pool);
  return {
    pool,
    store: new SqlStore(new PostgresSql(pool)),
    async close() {
      await pool.end();
      await database.drop();
    },
  };
}

/** A stream name of its own for one test file; `drop` deletes the stream and its invokers' bucket if they were made. */
export function testStreamName(services: TestServices): { name: string; drop(): Promise<void> } {
  const name = `EDGEWHISK_TEST_${uniqueSuffix().toUpperCase()}`;
  return {
    name,
    async drop() {
      const nc = await connect({ servers: services.natsUrl });
      try {
        const jsm = await jetstreamManager(nc);
        await jsm.streams.delete(name).catch(() => false);
        await jsm.streams.delete(`KV_${membershipBucket(name)}`).catch(() => false);
      } finally {
        await nc.close();
      }
    },
  };
}
