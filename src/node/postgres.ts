// SqlDatabase over PostgreSQL (node-postgres). The platform's SQL is written
// once with `?` placeholders for D1; this adapter numbers them for
// PostgreSQL and reads BIGINT columns (times, counts) back as numbers.
import pg from "pg";
import { replacePlaceholders } from "../store/placeholders.js";
import type { SqlDatabase, SqlQueries, SqlStatement } from "../ports/sql-database.js";

const INT8_OID = 20;

/** Type parsers of this pool only: BIGINT as a JS number (epoch ms and counts fit in 2^53). */
const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === INT8_OID && format !== "binary") return (text: string) => Number(text);
    return pg.types.getTypeParser(oid, format);
  },
};

export function createPool(connectionString: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, types });
  // An idle client losing its connection (database restart) must not crash the process.
  pool.on("error", (err) => console.error("postgres: idle client error:", err.message));
  return pool;
}

/** `?` → `$1, $2, …`, leaving quoted text and identifiers alone. */
export function numberPlaceholders(sql: string): string {
  return replacePlaceholders(sql, (n) => `$${n}`);
}

type Queryable = Pick<pg.Pool | pg.PoolClient, "query">;

async function execute(db: Queryable, sql: string, params: unknown[]): Promise<pg.QueryResult> {
  return db.query(numberPlaceholders(sql), params);
}

export class PostgresSql implements SqlDatabase {
  constructor(private readonly pool: pg.Pool) {}

  async all<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await execute(this.pool, sql, params)).rows as T[];
  }

  async run(sql: string, params: unknown[] = []): Promise<{ changes: number }> {
    return { changes: (await execute(this.pool, sql, params)).rowCount ?? 0 };
  }

  async batch(statements: SqlStatement[]): Promise<{ changes: number }[]> {
    // One statement is atomic by itself: BEGIN and COMMIT would only add two round trips.
    if (statements.length <= 1) return Promise.all(statements.map((s) => this.run(s.sql, s.params)));
    return this.transaction(async (tx) => {
      const results: { changes: number }[] = [];
      for (const statement of statements) results.push(await tx.run(statement.sql, statement.params));
      return results;
    });
  }

  /** Each statement on a connection of its own, at once: one round trip's time for them all. */
  async batchRows<T>(statements: SqlStatement[]): Promise<T[][]> {
    return Promise.all(statements.map((s) => this.all<T>(s.sql, s.params)));
  }

  /**
   * Runs `work` in one transaction on one connection, committed when it
   * resolves and rolled back when it throws: for statements that depend on
   * what earlier ones read (row locks, advisory locks), which D1 has no way to do.
   */
  async transaction<T>(work: (tx: SqlQueries) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const result = await work({
        all: async <R>(sql: string, params: unknown[] = []) => (await execute(client, sql, params)).rows as R[],
        run: async (sql: string, params: unknown[] = []) => ({ changes: (await execute(client, sql, params)).rowCount ?? 0 }),
      });
      await client.query("COMMIT");
      return result;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}
