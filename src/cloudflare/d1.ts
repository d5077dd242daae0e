// SqlDatabase over a D1 binding.
import type { SqlDatabase, SqlStatement } from "../ports/sql-database.js";

export class D1Sql implements SqlDatabase {
  constructor(private readonly d1: D1Database) {}

  async all<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    const { results } = await this.d1.prepare(sql).bind(...params).all<T>();
    return results;
  }

  async run(sql: string, params: unknown[] = []): Promise<{ changes: number }> {
    const { meta } = await this.d1.prepare(sql).bind(...params).run();
    return { changes: meta.changes };
  }

  async batch(statements: SqlStatement[]): Promise<{ changes: number }[]> {
    const results = await this.d1.batch(statements.map((s) => this.d1.prepare(s.sql).bind(...s.params)));
    return results.map((result) => ({ changes: result.meta.changes }));
  }

  async batchRows<T>(statements: SqlStatement[]): Promise<T[][]> {
    const results = await this.d1.batch<T>(statements.map((s) => this.d1.prepare(s.sql).bind(...s.params)));
    return results.map((result) => result.results);
  }
}
