#!/usr/bin/env node
// `npm run bench`: both hosts in one run, one after the other so that they
// do not share the CPU. The Cloudflare host (`npm start`, wrangler dev):
// floor, ceiling, warm blocking and web invokes, cold starts
// (bench/invoke.mjs), then non-blocking activations recorded per second
// against warm blocking (bench/nonblocking.mjs). The Kubernetes host
// (`src/node`, one controller and one invoker on real PostgreSQL and NATS):
// the same figures (bench/node-cluster.mjs, one action), skipped with a
// message when DATABASE_URL/NATS_URL (or the EDGEWHISK_TEST_* variables
// .ci/services.sh prints) are not set. Then, on each host, warm blocking
// invokes of one action against 100 (bench/spread.mjs) and a trigger with
// one rule fired at 100 a second (bench/fires.mjs). Each part prints its
// own Markdown section for docs/benchmarks.md. Bounded (about 12 minutes,
// 5 with --quick), loopback only.
//
//   npm run bench [-- --quick]     (--quick: shorter rounds, for a smoke run)
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";
import { ROOT } from "./local-server.mjs";

const { values: options } = parseArgs({ options: { quick: { type: "boolean", default: false } } });
const quick = options.quick;

const nodeServices = () =>
  (process.env.DATABASE_URL ?? process.env.EDGEWHISK_TEST_DATABASE_URL) && (process.env.NATS_URL ?? process.env.EDGEWHISK_TEST_NATS_URL)
    ? undefined
    : "no PostgreSQL and NATS given (DATABASE_URL and NATS_URL, or eval \"$(bash .ci/services.sh)\")";
const spreadArgs = quick ? ["--duration", "5", "--rounds", "1"] : [];
const firesArgs = quick ? ["--seconds", "10"] : [];

const parts = [
  { host: "Cloudflare (npm start)", script: "bench/invoke.mjs", args: quick ? ["--duration", "5", "--rounds", "1", "--cold", "5"] : [] },
  // Three rounds of 1000: one burst of 500 drained in about two seconds, its start and its tail a large part of it, and
  // the machine's speed drifts between a blocking run and the burst after it (0.68× and 0.84× in two runs, 2026-11-29).
  { host: "Cloudflare (npm start)", script: "bench/nonblocking.mjs", args: quick ? ["--duration", "5", "--count", "200"] : ["--rounds", "3", "--count", "1000", "--duration", "10"] },
  { host: "Cloudflare (npm start)", script: "bench/spread.mjs", args: ["--host", "cloudflare", ...spreadArgs] },
  { host: "Cloudflare (npm start)", script: "bench/fires.mjs", args: ["--host", "cloudflare", ...firesArgs] },
  {
    host: "Kubernetes (Node host)",
    script: "bench/node-cluster.mjs",
    args: ["--invokers", "1", "--actions", "1", ...(quick ? ["--duration", "5", "--rounds", "1", "--nonblocking", "200", "--cold", "5"] : [])],
    needs: nodeServices,
  },
  { host: "Kubernetes (Node host)", script: "bench/spread.mjs", args: ["--host", "node", ...spreadArgs], needs: nodeServices },
  { host: "Kubernetes (Node host)", script: "bench/fires.mjs", args: ["--host", "node", ...firesArgs], needs: nodeServices },
];

let failed = false;
for (const part of parts) {
  console.log(`\n<!-- ${part.host}: node ${part.script} ${part.args.join(" ")} -->\n`);
  const missing = part.needs?.();
  if (missing) {
    console.log(`_${part.host} skipped: ${missing}._`);
    continue;
  }
  const run = spawnSync(process.execPath, [part.script, ...part.args], { cwd: ROOT, stdio: "inherit" });
  if (run.status !== 0) {
    console.error(`${part.script} failed (${run.status ?? run.signal})`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
