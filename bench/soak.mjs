#!/usr/bin/env node
// A memory soak of either host: rounds of load (warm blocking invokes spread
// over many actions, plus non-blocking invokes), each followed by the same
// time idle, sampling the resident memory of every process that runs
// edgewhisk. `--host cloudflare` (default) runs `npm start`: wrangler dev's
// workerd, the local isolate sidecar (Node) and its workerd children.
// `--host node` runs `npm run start:node` on a database and NATS stream of
// its own (DATABASE_URL, NATS_URL as for start:node; .ci/services.sh starts
// both): the controller, the invoker and the invoker's workerd children.
// Memory that climbs every round and stays up while idle is a leak; memory
// that levels off is a cache at its bound.
//
//   npm run bench:soak -- [--host cloudflare|node] [--rounds 3] [--seconds 45] [--actions 100]
//
// Prints a Markdown section for docs/benchmarks.md. Bounded: rounds × 2 ×
// seconds, loopback only, 10 connections.
import autocannon from "autocannon";
import { execFileSync } from "node:child_process";
import { parseArgs } from "node:util";
import { AUTH, startLocalServer, startNodeServer } from "./local-server.mjs";

const { values: options } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    seconds: { type: "string", default: "45" },
    actions: { type: "string", default: "100" },
    host: { type: "string", default: "cloudflare" },
  },
});
const ROUNDS = Number(options.rounds);
const SECONDS = Number(options.seconds);
const ACTIONS = Number(options.actions);
const HOST = options.host;
if (HOST !== "cloudflare" && HOST !== "node") throw new Error(`--host is cloudflare or node, not ${HOST}`);

const delay = (ms) => new Promise((r) => setTimeout(r, ms));

/** Each host's processes by role: the first pattern a command line matches names its role. */
const ROLES = {
  cloudflare: [
    ["sidecar workerd children", /workerd serve.*edgewhisk-workerd-/],
    ["wrangler workerd", /workerd serve/],
    ["sidecar (node)", /start-local\.ts/],
    ["wrangler (node)", /wrangler/],
  ],
  node: [
    ["invoker workerd children", /workerd serve/],
    ["controller (node)", /main\.ts controller/],
    ["invoker (node)", /main\.ts invoker/],
  ],
}[HOST];

/** Resident MB of each process in the server's process group, by role. */
function residentByRole(pgid) {
  const out = execFileSync("ps", ["-o", "pid=,pgid=,rss=,args=", "-e"], { encoding: "utf8" });
  const roles = Object.fromEntries(ROLES.map(([role]) => [role, 0]));
  for (const line of out.split("\n")) {
    const match = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    if (!match || Number(match[2]) !== pgid) continue;
    const role = ROLES.find(([, pattern]) => pattern.test(match[4]))?.[0];
    if (role) roles[role] += Number(match[3]) / 1024;
  }
  return roles;
}

const server = HOST === "node" ? await startNodeServer("edgewhisk_soak") : await startLocalServer("edgewhisk-soak-");
const base = server.url;
const samples = [];
try {
  server.wskadmin("limits", "set", "guest", "--invocationsPerMinute", "1000000000", "--concurrentInvocations", "1000");
  for (let i = 0; i < ACTIONS; i++) {
    const res = await fetch(`${base}/api/v1/namespaces/_/actions/soak-${i}?overwrite=true`, {
      method: "PUT",
      headers: { authorization: AUTH, "content-type": "application/json" },
      body: JSON.stringify({ exec: { kind: "nodejs:default", code: `function main(p) { return { n: ${i}, p }; }` } }),
    });
    if (!res.ok) throw new Error(`create soak-${i}: ${res.status}`);
  }
  const sample = (phase) => samples.push({ phase, ...residentByRole(server.pgid) });
  sample("start");
  let requests = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    let n = 0;
    const result = await new Promise((resolve, reject) => {
      const instance = autocannon(
        {
          url: base,
          connections: 10,
          duration: SECONDS,
          requests: [
            {
              method: "POST",
              setupRequest: (req) => {
                const i = n++;
                const blocking = i % 5 !== 0;
                return {
                  ...req,
                  path: `/api/v1/namespaces/_/actions/soak-${i % ACTIONS}?blocking=${blocking}&result=true`,
                  headers: { authorization: AUTH, "content-type": "application/json" },
                  body: JSON.stringify({ i }),
                };
              },
            },
          ],
        },
        (err, out) => (err ? reject(err) : resolve(out)),
      );
      instance.on("done", () => sample(`round ${round} end of load`));
    });
    requests += result.requests.total;
    if (result.non2xx) console.error(`round ${round}: ${result.non2xx} non-2xx answers`);
    await delay(SECONDS * 1000);
    sample(`round ${round} after ${SECONDS} s idle`);
  }
  const roles = Object.keys(samples[0]).filter((k) => k !== "phase");
  const what = HOST === "node" ? "npm run start:node" : "npm start";
  console.log(`## ${new Date().toISOString().slice(0, 10)} — memory soak of ${what}\n`);
  console.log(`Command: \`npm run bench:soak -- --host ${HOST} --rounds ${ROUNDS} --seconds ${SECONDS} --actions ${ACTIONS}\` (${requests} requests; one in five non-blocking)\n`);
  console.log(`| phase | ${roles.map((r) => `${r} MB`).join(" | ")} |\n|---|${roles.map(() => "---|").join("")}`);
  for (const s of samples) console.log(`| ${s.phase} | ${roles.map((r) => Math.round(s[r])).join(" | ")} |`);
} finally {
  await server.stop();
}
