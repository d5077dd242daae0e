#!/usr/bin/env node
// Administers subjects (API keys and their namespaces) in the D1 database,
// like OpenWhisk's wskadmin:
//
//   npm run wskadmin -- user create <namespace> [--auth uuid:key] [--remote]
//   npm run wskadmin -- user delete <uuid> [--remote]
//
// Without --remote it acts on the local database of `npm start`
// (EDGEWHISK_STATE, default .wrangler/state). Keys are stored hashed; the
// key is printed once, at creation.
import { spawnSync } from "node:child_process";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { auth: { type: "string" }, remote: { type: "boolean", default: false } },
});
const [noun, verb, subject] = positionals;

function usage(message) {
  if (message) console.error(message);
  console.error("usage: wskadmin user create <namespace> [--auth uuid:key] [--remote]\n       wskadmin user delete <uuid> [--remote]");
  process.exit(2);
}

const quote = (text) => `'${String(text).replaceAll("'", "''")}'`;

function execute(sql) {
  const where = values.remote ? ["--remote"] : ["--local", "--persist-to", process.env.EDGEWHISK_STATE || ".wrangler/state"];
  const result = spawnSync("wrangler", ["d1", "execute", "DB", ...where, "--command", sql], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" },
  });
  if (result.status !== 0) {
    process.stderr.write(result.stdout);
    process.exit(result.status ?? 1);
  }
}

if (noun !== "user" || !verb) usage();
if (verb === "create") {
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
