// A SqlStore over an in-memory SQLite (node:sqlite) with migrations/ applied:
// the same SQL D1 runs, for unit tests of what sits on the store.
import { readdirSync, readFileSync } from "node:fs";
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import { fileURLToPath } from "node:url";
import { SqlStore } from "../../src/store/sql-store.js";
import type { SqlDatabase, SqlStatement } from "../../src/ports/sql-database.js";

const MIGRATIONS = fileURLToPath(new URL("../../migrations/", import.meta.url));

class SqliteSql implements SqlDatabase {
  constructor(private readonly db: DatabaseSync) {}

  async all<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.db.prepare(sql).all(...(params as SQLInputValue[])) as T[];
  }

  async run(sql: string, params: unknown[] = []): Promise<{ changes: number }> {
    return { changes: Number(this.db.prepare(sql).run(...(params as SQLInputValue[])).changes) };
  }

  async batch(statements: SqlStatement[]): Promise<{ changes: number }[]> {
    this.db.exec("BEGIN");
    try {
      const results = statements.map((s) => ({ changes: Number(this.db.prepare(s.sql).run(...(s.params as SQLInputValue[])).changes) }));
      this.db.exec("COMMIT");
      return results;
    } catch (err) {
      this.db.exec("ROLLBACK");
      throw err;
    }
  }
}

export function sqliteStore(): SqlStore {
  const db = new DatabaseSync(":memory:");
  for (const file of readdirSync(MIGRATIONS).filter((name) => name.endsWith(".sql")).sort()) {
    db.exec(readFileSync(MIGRATIONS + file, "utf8"));
  }
  return new SqlStore(new SqliteSql(db));
}
