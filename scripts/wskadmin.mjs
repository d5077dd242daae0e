#!/usr/bin/env node
// Administers subjects (API keys and their namespaces) and namespace limits
// in the D1 database, like OpenWhisk's wskadmin:
//
//   npm run wskadmin -- user create <namespace> [--auth uuid:key] [--remote]
//   npm run wskadmin -- user delete <uuid> [--remote]
//   npm run wskadmin -- limits set <namespace> [--invocationsPerMinute N] [--firesPerMinute N] [--concurrentInvocations N] [--remote]
//   npm run wskadmin -- limits get <namespace> [--remote]
//   npm run wskadmin -- limits delete <namespace> [--remote]
//
// Without --remote it acts on the local database of `npm start`
// (EDGEWHISK_STATE, default .wrangler/state). Keys are stored hashed; the
// key is printed once, at creation.
import { spawnSync } from "node:child_process";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    auth: { type: "string" },
    remote: { type: "boolean", default: false },
    invocationsPerMinute: { type: "string" },
    firesPerMinute: { type: "string" },
    concurrentInvocations: { type: "string" },
  },
});
const LIMIT_NAMES = ["invocationsPerMinute", "firesPerMinute", "concurrentInvocations"];
const [noun, verb, subject] = positionals;

function usage(message) {
  if (message) console.error(message);
  console.error(
    [
      "usage: wskadmin user create <namespace> [--auth uuid:key] [--remote]",
      "       wskadmin user delete <uuid> [--remote]",
      "       wskadmin limits set <namespace> [--invocationsPerMinute N] [--firesPerMinute N] [--concurrentInvocations N] [--remote]",
      "       wskadmin limits get <namespace> [--remote]",
      "       wskadmin limits delete <namespace> [--remote]",
    ].join("\n"),
  );
  process.exit(2);
}

const quote = (text) => `'${String(text).replaceAll("'", "''")}'`;

/** Runs one statement; answers its result rows. */
function execute(sql) {
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

function storedLimits(namespace) {
  const [row] = execute(`SELECT limits FROM namespace_limits WHERE namespace = ${quote(namespace)}`);
  return row ? JSON.parse(row.limits) : {};
}

function limitsCommand(verb, namespace) {
  if (!namespace) usage("a namespace is required");
  if (verb === "get") {
    const limits = storedLimits(namespace);
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
    const limits = JSON.stringify({ ...storedLimits(namespace), ...changes });
    execute(
      `INSERT INTO namespace_limits (namespace, limits) VALUES (${quote(namespace)}, ${quote(limits)}) ` +
        `ON CONFLICT (namespace) DO UPDATE SET limits = excluded.limits`,
    );
    console.log("Limits successfully set");
  } else if (verb === "delete") {
    execute(`DELETE FROM namespace_limits WHERE namespace = ${quote(namespace)}`);
    console.log("Limits deleted");
  } else usage(`unknown command: limits ${verb}`);
}

if (noun === "limits") limitsCommand(verb, subject);
else if (noun !== "user" || !verb) usage();
else if (verb === "create") {
  if (!subject || !/^[A-Za-z0-9_][\w@ .&-]*$/.test(subject)) usage("a valid namespace name is required");
  const auth = values.auth ?? `${randomUUID()}:${randomBytes(48).toString("base64url").slice(0, 64)}`;
  const colon = auth.indexOf(":");
  if (colon <= 0) usage("--auth must have the form uuid:key");
  const uuid = auth.slice(0, colon);
  const hash = createHash("sha256").update(auth).digest("hex");
  execute(
    `INSERT INTO subjects (uuid, key_hash, namespace, subject) VALUES (${quote(uuid)}, ${quote(hash)}, ${quote(subject)}, ${quote(subject)}) ` +
      `ON CONFLICT (uuid) DO UPDATE SET key_hash = excluded.key_hash, namespace = excluded.namespace, subject = excluded.subject`,
  );
  console.log(auth);
} else if (verb === "delete") {
  if (!subject) usage("the uuid of the key to delete is required");
  execute(`DELETE FROM subjects WHERE uuid = ${quote(subject)}`);
  console.log(`deleted ${subject}`);
} else usage(`unknown command: ${verb}`);
