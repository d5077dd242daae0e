#!/usr/bin/env node
// Administers subjects (API keys and their namespaces) and namespace limits,
// like OpenWhisk's wskadmin:
//
//   npm run wskadmin -- user create <namespace> [--auth uuid:key] [WHERE]
//   npm run wskadmin -- user delete <uuid> [WHERE]
//   npm run wskadmin -- limits set <namespace> [--invocationsPerMinute N] [--firesPerMinute N] [--concurrentInvocations N] [WHERE]
//   npm run wskadmin -- limits get <namespace> [WHERE]
//   npm run wskadmin -- limits delete <namespace> [WHERE]
//
// WHERE is the database: none for the local D1 database of `npm start`
// (EDGEWHISK_STATE, default .wrangler/state), --remote for the deployed D1
// database, --database-url postgres://... for the Kubernetes host's
// PostgreSQL. Keys are stored hashed; the key is printed once, at creation.
import { spawnSync } from "node:child_process";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { parseArgs } from "node:util";

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
const LIMIT_NAMES = ["invocationsPerMinute", "firesPerMinute", "concurrentInvocations"];
const [noun, verb, subject] = positionals;

function usage(message) {
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

const quote = (text) => `'${String(text).replaceAll("'", "''")}'`;

/** Runs one statement; answers its result rows. */
async function execute(sql) {
  return values["database-url"] ? executePostgres(sql) : executeD1(sql);
}

async function executePostgres(sql) {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: values["database-url"] });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

function executeD1(sql) {
  const where = values.remote ? ["--remote"] : ["--local", "--persist-to", process.env.EDGEWHISK_STATE || ".wrangler/state"];
  const result = spawnSync("wrangler", ["d1", "execute", "DB", ...where, "--json", "--command", sql], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" },
  });
  if (result.status !== 0) {
    process.stderr.write(result.stdout);
    process.exit(result.status ?? 1);
  }
  return JSON.parse(result.stdout.toString())[0]?.results ?? [];
}

async function storedLimits(namespace) {
  const [row] = await execute(`SELECT limits FROM namespace_limits WHERE namespace = ${quote(namespace)}`);
  return row ? JSON.parse(row.limits) : {};
}

async function limitsCommand(verb, namespace) {
  if (!namespace) usage("a namespace is required");
  if (verb === "get") {
    const limits = await storedLimits(namespace);
    if (Object.keys(limits).length === 0) console.log(`No limits found, default system limits apply`);
    for (const [name, value] of Object.entries(limits)) console.log(`${name} = ${value}`);
  } else if (verb === "set") {
    const changes = {};
    for (const name of LIMIT_NAMES) {
      if (values[name] === undefined) continue;
      const value = Number(values[name]);
      if (!Number.isInteger(value) || value < 0) usage(`--${name} must be a whole number of 0 or more`);
      changes[name] = value;
    }
    if (Object.keys(changes).length === 0) usage(`give at least one of ${LIMIT_NAMES.map((n) => `--${n}`).join(", ")}`);
    const limits = JSON.stringify({ ...(await storedLimits(namespace)), ...changes });
    await execute(
      `INSERT INTO namespace_limits (namespace, limits) VALUES (${quote(namespace)}, ${quote(limits)}) ` +
        `ON CONFLICT (namespace) DO UPDATE SET limits = excluded.limits`,
    );
    console.log("Limits successfully set");
  } else if (verb === "delete") {
    await execute(`DELETE FROM namespace_limits WHERE namespace = ${quote(namespace)}`);
    console.log("Limits deleted");
  } else usage(`unknown command: limits ${verb}`);
}

if (noun === "limits") await limitsCommand(verb, subject);
else if (noun !== "user" || !verb) usage();
else if (verb === "create") {
  if (!subject || !/^[A-Za-z0-9_][\w@ .&-]*$/.test(subject)) usage("a valid namespace name is required");
  const auth = values.auth ?? `${randomUUID()}:${randomBytes(48).toString("base64url").slice(0, 64)}`;
  const colon = auth.indexOf(":");
  if (colon <= 0) usage("--auth must have the form uuid:key");
  const uuid = auth.slice(0, colon);
  const hash = createHash("sha256").update(auth).digest("hex");
  await execute(
    `INSERT INTO subjects (uuid, key_hash, namespace, subject) VALUES (${quote(uuid)}, ${quote(hash)}, ${quote(subject)}, ${quote(subject)}) ` +
      `ON CONFLICT (uuid) DO UPDATE SET key_hash = excluded.key_hash, namespace = excluded.namespace, subject = excluded.subject`,
  );
  console.log(auth);
} else if (verb === "delete") {
  if (!subject) usage("the uuid of the key to delete is required");
  await execute(`DELETE FROM subjects WHERE uuid = ${quote(subject)}`);
  console.log(`deleted ${subject}`);
} else usage(`unknown command: ${verb}`);
