// Administers subjects (API keys and their namespaces) and namespace limits,
// like OpenWhisk's wskadmin:
//
//   npm run wskadmin -- user create <namespace> [--auth uuid:key] [WHERE]
//   npm run wskadmin -- user delete <uuid> [WHERE]
//   npm run wskadmin -- limits set <namespace> [--invocationsPerMinute N] [--firesPerMinute N] [--concurrentInvocations N] [WHERE]
//   npm run wskadmin -- limits get <namespace> [WHERE]
//   npm run wskadmin -- limits delete <namespace> [WHERE]
//
// (or, in the project directory, `node --import tsx scripts/wskadmin.ts …`).
// WHERE is the database: none for the local D1 database of `npm start`
// (EDGEWHISK_STATE, default .wrangler/state), --remote for the deployed D1
// database, --database-url postgres://... for the Kubernetes host's
// PostgreSQL. Either way the commands run on the store (src/store/admin.ts);
// D1 is reached through `wrangler d1 execute`, the one client that opens
// both the local and the deployed database, which takes no parameters, so
// the store's statements reach it with their values inlined as literals.
// Keys are stored hashed; the key is printed once, at creation.
import { spawnSync } from "node:child_process";
import { delimiter, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createPool, PostgresSql } from "../src/node/postgres.js";
import { AdminUsageError, runAdminCommand } from "../src/store/admin.js";
import { inlineParams } from "../src/store/placeholders.js";
import { SqlStore } from "../src/store/sql-store.js";
import type { SqlDatabase } from "../src/ports/sql-database.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** wrangler and the Node it requires come from the project, not PATH (npm run adds them there; a direct run does not). */
const BIN = join(ROOT, "node_modules", ".bin");

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    auth: { type: "string" },
    remote: { type: "boolean", default: false },
    "database-url": { type: "string" },
    invocationsPerMinute: { type: "string" },
    firesPerMinute: { type: "string" },
    concurrentInvocations: { type: "string" },
  },
});
if (values.remote && values["database-url"]) {
  console.error("give either --remote or --database-url, not both");
  process.exit(2);
}

function usage(message: string): never {
  if (message) console.error(message);
  console.error(
    [
      "usage: wskadmin user create <namespace> [--auth uuid:key] [WHERE]",
      "       wskadmin user delete <uuid> [WHERE]",
      "       wskadmin limits set <namespace> [--invocationsPerMinute N] [--firesPerMinute N] [--concurrentInvocations N] [WHERE]",
      "       wskadmin limits get <namespace> [WHERE]",
      "       wskadmin limits delete <namespace> [WHERE]",
      "WHERE: nothing (local D1 of npm start), --remote (deployed D1) or --database-url postgres://... (Kubernetes host)",
    ].join("\n"),
  );
  process.exit(2);
}

/** D1 through `wrangler d1 execute --json --command`: the local state of `npm start`, or the deployed database. */
class WranglerD1 implements SqlDatabase {
  private readonly where = values.remote
    ? ["--remote"]
    : ["--local", "--persist-to", resolve(process.env.EDGEWHISK_STATE || ".wrangler/state")];

  private execute(sql: string): { results: Record<string, unknown>[] }[] {
    const result = spawnSync(join(BIN, "wrangler"), ["d1", "execute", "DB", ...this.where, "--json", "--command", sql], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, PATH: `${BIN}${delimiter}${process.env.PATH ?? ""}`, CI: "true", WRANGLER_SEND_METRICS: "false" },
    });
    if (result.error) {
      console.error(`cannot run ${join(BIN, "wrangler")} (${result.error.message}); run npm ci first`);
      process.exit(1);
    }
    if (result.status !== 0) {
      process.stderr.write(result.stdout);
      process.exit(result.status ?? 1);
    }
    return JSON.parse(result.stdout.toString());
  }

  async all<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (this.execute(inlineParams(sql, params))[0]?.results ?? []) as T[];
  }

  /** Local wrangler reports no changes count, so the same command asks SQLite for it. */
  async run(sql: string, params: unknown[] = []): Promise<{ changes: number }> {
    const results = this.execute(`${inlineParams(sql, params)}; SELECT changes() AS changes`);
    return { changes: Number(results.at(-1)?.results[0]?.changes ?? 0) };
  }

  async batch(): Promise<{ changes: number }[]> {
    throw new Error("wskadmin's commands run no batches, and wrangler d1 execute answers no changes per statement");
  }

  async batchRows<T>(): Promise<T[][]> {
    throw new Error("wskadmin's commands run no batches");
  }
}

const command = {
  noun: positionals[0],
  verb: positionals[1],
  subject: positionals[2],
  auth: values.auth,
  limits: { invocationsPerMinute: values.invocationsPerMinute, firesPerMinute: values.firesPerMinute, concurrentInvocations: values.concurrentInvocations },
};
const databaseUrl = values["database-url"];
const pool = databaseUrl ? createPool(databaseUrl, 1) : undefined;
try {
  const lines = await runAdminCommand(new SqlStore(pool ? new PostgresSql(pool) : new WranglerD1()), command);
  for (const line of lines) console.log(line);
} catch (err) {
  if (err instanceof AdminUsageError) usage(err.message);
  throw err;
} finally {
  await pool?.end();
}
