// SqlDatabase over PostgreSQL (node-postgres). The platform's SQL is written
// once with `?` placeholders for D1; this adapter numbers them for
// PostgreSQL and reads BIGINT columns (times, counts) back as numbers.
import pg from "pg";
import type { SqlDatabase, SqlStatement } from "../store/sql-store.js";

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
  let out = "";
  let n = 0;
  let quote: string | undefined;
  for (const ch of sql) {
    if (quote) {
      if (ch === quote) quote = undefined;
      out += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      out += ch;
    } else if (ch === "?") {
      out += `$${++n}`;
    } else {
      out += ch;
    }
  }
  return out;
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
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const results: { changes: number }[] = [];
      for (const statement of statements) {
        results.push({ changes: (await execute(client, statement.sql, statement.params)).rowCount ?? 0 });
      }
      await client.query("COMMIT");
      return results;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}
