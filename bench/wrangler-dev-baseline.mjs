#!/usr/bin/env node
// What wrangler dev itself costs in memory: a hello-world Worker (no
// edgewhisk code at all) served by wrangler dev and by bare workerd, under
// the same load, sampling the resident memory of the workerd process after
// each round. It tells the growth of `npm start`'s workerd under load
// (bench:soak) apart from anything edgewhisk keeps.
//
//   node bench/wrangler-dev-baseline.mjs [--rounds 3] [--seconds 20]
//
// Bounded: 2 servers × rounds × seconds of load, loopback only, 10 connections.
import autocannon from "autocannon";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { freePort, ROOT, waitFor } from "./local-server.mjs";

const { values: options } = parseArgs({
  options: { rounds: { type: "string", default: "3" }, seconds: { type: "string", default: "20" } },
});
const ROUNDS = Number(options.rounds);
const SECONDS = Number(options.seconds);
const COMPATIBILITY_DATE = "2026-08-01";

const dir = mkdtempSync(join(tmpdir(), "edgewhisk-baseline-"));
writeFileSync(join(dir, "hello.js"), `export default { fetch() { return Response.json({ ok: true }); } };\n`);
writeFileSync(join(dir, "wrangler.toml"), `name = "hello"\nmain = "hello.js"\ncompatibility_date = "${COMPATIBILITY_DATE}"\n`);

/** Resident MB of the workerd processes in process group `pgid`. */
function workerdMb(pgid) {
  const out = execFileSync("ps", ["-o", "pgid=,rss=,args=", "-e"], { encoding: "utf8" });
  let kb = 0;
  for (const line of out.split("\n")) {
    const match = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    if (match && Number(match[1]) === pgid && /workerd serve/.test(match[3])) kb += Number(match[2]);
  }
  return Math.round(kb / 1024);
}

async function measure(label, start) {
  const port = await freePort();
  const child = start(port);
  const url = `http://127.0.0.1:${port}/`;
  try {
    await waitFor(url);
    const rows = [{ label, phase: "start", requests: 0, mb: workerdMb(child.pid) }];
    for (let round = 1; round <= ROUNDS; round++) {
      const result = await autocannon({ url, connections: 10, duration: SECONDS });
      rows.push({ label, phase: `after round ${round}`, requests: result.requests.total, mb: workerdMb(child.pid) });
    }
    return rows;
  } finally {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
  }
}

const detached = { detached: true, stdio: "ignore", cwd: dir };
const workerd = join(ROOT, "node_modules/.bin/workerd");
writeFileSync(
  join(dir, "hello.capnp"),
  `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = (modules = [(name = "hello.js", esModule = embed "hello.js")], compatibilityDate = "${COMPATIBILITY_DATE}")) ],
  sockets = [ (name = "http", address = "127.0.0.1:" , http = (), service = "main") ]
);
`,
);
try {
  const rows = [
    ...(await measure("wrangler dev", (port) =>
      spawn(join(ROOT, "node_modules/.bin/wrangler"), ["dev", "--ip", "127.0.0.1", "--port", String(port), "--show-interactive-dev-session=false", "--log-level", "none"], {
        ...detached,
        env: { ...process.env, WRANGLER_SEND_METRICS: "false", PATH: `${join(ROOT, "node_modules/node/bin")}:${process.env.PATH}` },
      }),
    )),
    ...(await measure("bare workerd", (port) => spawn(workerd, ["serve", "hello.capnp", "--socket-addr", `http=127.0.0.1:${port}`], detached))),
  ];
  console.log(`Command: \`node bench/wrangler-dev-baseline.mjs --rounds ${ROUNDS} --seconds ${SECONDS}\` (hello-world Worker, 10 connections)\n`);
  console.log("| server | phase | requests in round | workerd MB |\n|---|---|---|---|");
  for (const row of rows) console.log(`| ${row.label} | ${row.phase} | ${row.requests} | ${row.mb} |`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
