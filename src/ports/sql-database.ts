// The SqlDatabase port: what a SQL database adapter provides to the store
// (src/store/sql-store.ts and the Node host's row modules): D1 on Cloudflare
// (src/cloudflare/d1.ts), PostgreSQL on Kubernetes (src/node/postgres.ts).

export interface SqlStatement {
  sql: string;
  params: unknown[];
}

/** What an adapter provides: `?` placeholders, rows as plain objects. */
export interface SqlDatabase {
  all<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  run(sql: string, params?: unknown[]): Promise<{ changes: number }>;
  /** Runs the statements in one transaction, answering each one's changes. */
  batch(statements: SqlStatement[]): Promise<{ changes: number }[]>;
  /**
   * Runs statements that are each whole by themselves (no one depends on
   * another), in one call where the database takes several at once (a D1
   * batch), answering each one's rows (INSERT … RETURNING).
   */
  batchRows<T = Record<string, unknown>>(statements: SqlStatement[]): Promise<T[][]>;
}

/** Statements one at a time, as inside an adapter's transaction. */
export type SqlQueries = Pick<SqlDatabase, "all" | "run">;
