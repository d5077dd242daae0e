// The store's SQL is written with `?` placeholders (D1's form). Adapters
// that speak another form rewrite them here: PostgreSQL numbers them, and a
// client that takes no parameters (`wrangler d1 execute --command`) gets the
// values inlined as SQLite literals.

/** Replaces each `?` outside quoted text and identifiers with `replace(n)`, n counting from 1. */
export function replacePlaceholders(sql: string, replace: (n: number) => string): string {
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
      out += replace(++n);
    } else {
      out += ch;
    }
  }
  return out;
}

/** A value as a SQLite literal: text quoted with `'` doubled, numbers as written, booleans as 1/0. */
export function sqliteLiteral(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "string") return `'${value.replaceAll("'", "''")}'`;
  if (typeof value === "boolean") return value ? "1" : "0";
  if (typeof value === "bigint") return String(value);
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  throw new Error(`no SQLite literal for ${typeof value === "number" ? value : typeof value}`);
}

/** The statement with its parameters inlined; throws when their count does not match the placeholders. */
export function inlineParams(sql: string, params: readonly unknown[]): string {
  let used = 0;
  const text = replacePlaceholders(sql, (n) => {
    used = n;
    return n <= params.length ? sqliteLiteral(params[n - 1]) : "?";
  });
  if (used !== params.length) throw new Error(`the statement has ${used} placeholders for ${params.length} parameters`);
  return text;
}
