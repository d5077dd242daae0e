// An in-memory SqlDatabase for the fast test tier: SQLite through Node's
// built-in node:sqlite (Node 22; the npm scripts run the repo's own Node 22),
// with migrations/*.sql applied as D1 applies them. The store SQL is
// written once for SQLite and PostgreSQL, so the real SqlStore runs on it.
import { readdirSync, readFileSync } from "node:fs";
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import type { SqlDatabase, SqlStatement } from "../../src/ports/sql-database.js";
import { SqlStore } from "../../src/store/sql-store.js";

const MIGRATIONS = new URL("../../migrations/", import.meta.url);

export class MemorySql implements SqlDatabase {
  readonly db = new DatabaseSync(":memory:");

  constructor() {
    for (const file of readdirSync(MIGRATIONS).filter((name) => name.endsWith(".sql")).sort()) {
      this.db.exec(readFileSync(new URL(file, MIGRATIONS), "utf8"));
    }
  }

  async all<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.db.prepare(sql).all(...(params as SQLInputValue[])) as T[];
  }

  async run(sql: string, params: unknown[] = []): Promise<{ changes: number }> {
    return this.runNow(sql, params);
  }

  /** One transaction, as D1's batch and the PostgreSQL adapter's are: a failure undoes every statement. */
  async batch(statements: SqlStatement[]): Promise<{ changes: number }[]> {
    this.db.exec("BEGIN");
    try {
      const results = statements.map((statement) => this.runNow(statement.sql, statement.params));
      this.db.exec("COMMIT");
      return results;
    } catch (err) {
      this.db.exec("ROLLBACK");
      throw err;
    }
  }

  async batchRows<T = Record<string, unknown>>(statements: SqlStatement[]): Promise<T[][]> {
    return statements.map((statement) => this.db.prepare(statement.sql).all(...(statement.params as SQLInputValue[])) as T[]);
  }

  private runNow(sql: string, params: unknown[]): { changes: number } {
    return { changes: Number(this.db.prepare(sql).run(...(params as SQLInputValue[])).changes) };
  }
}

/** The platform's SqlStore over a fresh in-memory database. */
export function memoryStore(): { store: SqlStore; sql: MemorySql } {
  const sql = new MemorySql();
  return { store: new SqlStore(sql), sql };
}
