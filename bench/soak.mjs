#!/usr/bin/env node
// A memory soak of `npm start`: rounds of load (warm blocking invokes spread
// over many actions, plus non-blocking invokes), each followed by the same
// time idle, sampling the resident memory of every process that runs
// edgewhisk: wrangler dev's workerd, the local isolate sidecar (Node) and
// its workerd children. Memory that climbs every round and stays up while
// idle is a leak; memory that levels off is a cache at its bound.
//
//   npm run bench:soak -- [--rounds 3] [--seconds 45] [--actions 100]
//
// Prints a Markdown section for docs/benchmarks.md. Bounded: rounds × 2 ×
// seconds, loopback only, 10 connections.
import autocannon from "autocannon";
import { execFileSync } from "node:child_process";
import { parseArgs } from "node:util";
import { startLocalServer } from "./local-server.mjs";

const { values: options } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    seconds: { type: "string", default: "45" },
    actions: { type: "string", default: "100" },
  },
});
const ROUNDS = Number(options.rounds);
const SECONDS = Number(options.seconds);
const ACTIONS = Number(options.actions);
const GUEST = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP";
const AUTH = `Basic ${Buffer.from(GUEST).toString("base64")}`;

const delay = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resident MB of each process in the server's process group, by role. */
function residentByRole(pgid) {
  const out = execFileSync("ps", ["-o", "pid=,pgid=,rss=,args=", "-e"], { encoding: "utf8" });
  const roles = { "wrangler workerd": 0, "sidecar (node)": 0, "sidecar workerd children": 0, "wrangler (node)": 0 };
  for (const line of out.split("\n")) {
    const match = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    if (!match || Number(match[2]) !== pgid) continue;
    const mb = Number(match[3]) / 1024;
    const args = match[4];
    if (/workerd serve/.test(args) && /edgewhisk-workerd-/.test(args)) roles["sidecar workerd children"] += mb;
    else if (/workerd serve/.test(args)) roles["wrangler workerd"] += mb;
    else if (/start-local\.ts/.test(args)) roles["sidecar (node)"] += mb;
    else if (/wrangler/.test(args)) roles["wrangler (node)"] += mb;
  }
  return roles;
}

const server = await startLocalServer("edgewhisk-soak-");
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
  console.log(`## ${new Date().toISOString().slice(0, 10)} — memory soak of npm start\n`);
  console.log(`Command: \`npm run bench:soak -- --rounds ${ROUNDS} --seconds ${SECONDS} --actions ${ACTIONS}\` (${requests} requests; one in five non-blocking)\n`);
  console.log(`| phase | ${roles.map((r) => `${r} MB`).join(" | ")} |\n|---|${roles.map(() => "---|").join("")}`);
  for (const s of samples) console.log(`| ${s.phase} | ${roles.map((r) => Math.round(s[r])).join(" | ")} |`);
} finally {
  server.stop();
}
