#!/usr/bin/env node
// Warm blocking invokes of one action against the same load spread over
// many distinct actions, on either host, in one server: rounds alternate
// (one, spread, one, spread, ...) so that both see the same machine. Every
// action is invoked once before the load, so no first cold start is in it.
//
// Each request takes the next action of one rotation shared by all
// connections. (autocannon's own list of requests starts every connection
// at the first one, so 10 connections walked the list in step and kept
// invoking one action 10 times at once: each extra parallel activation
// needs an isolate of its own, and the run measured those cold starts,
// not the spread. `--lockstep` loads that way, for comparison.)
//
//   node bench/spread.mjs [--host cloudflare|node] [--actions 100] [--duration 10] [--rounds 2] [--connections 10] [--lockstep]
//
// --host cloudflare (default) starts `npm start`; --host node the Node host
// as one controller and one invoker (DATABASE_URL/NATS_URL or the
// EDGEWHISK_TEST_* variables). Prints one Markdown table row.
import autocannon from "autocannon";
import { parseArgs } from "node:util";
import { AUTH, groupCpuSeconds, median, startLocalServer, startNodeCluster } from "./local-server.mjs";
import { apiRetrying, prepare } from "./nonblocking.mjs";

const HELLO = "function main(params) { return { payload: 'Hello, ' + (params.name || 'World') + '!' }; }";

/** Warm blocking load rotating over `names` (one rotation for all connections); with `pgid`, also the server's CPU ms per request. */
function load(url, names, { connections, duration, lockstep = false, pgid }) {
  const cpuBefore = pgid ? groupCpuSeconds(pgid) : 0;
  let next = 0;
  const paths = names.map((name) => `/api/v1/namespaces/_/actions/${name}?blocking=true&result=true`);
  const requests = lockstep
    ? paths.map((path) => ({ method: "POST", path, headers: { authorization: AUTH } }))
    : [{ method: "POST", headers: { authorization: AUTH }, setupRequest: (request) => ({ ...request, path: paths[next++ % paths.length] }) }];
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        connections,
        duration,
        requests,
      },
      (err, result) => {
        if (err) return reject(err);
        if (result.non2xx || result.errors || result.timeouts) {
          return reject(new Error(`${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`));
        }
        const cpuMs = pgid ? ((groupCpuSeconds(pgid) - cpuBefore) * 1000) / result.requests.total : NaN;
        resolve({ rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, cpuMs });
      },
    );
  });
}

export async function measureSpread(url, { actions = 100, duration = 10, rounds = 2, connections = 10, lockstep = false, pgid } = {}) {
  const one = ["hello"];
  const many = Array.from({ length: actions }, (_, i) => `spread-${i}`);
  for (const name of many) {
    const created = await apiRetrying(url, "PUT", `/api/v1/namespaces/_/actions/${name}?overwrite=true`, { exec: { kind: "nodejs:default", code: HELLO } });
    if (created.status !== 200) throw new Error(`create failed: ${JSON.stringify(created)}`);
  }
  for (const name of [...one, ...many]) {
    const first = await apiRetrying(url, "POST", `/api/v1/namespaces/_/actions/${name}?blocking=true&result=true`);
    if (first.status !== 200) throw new Error(`${name} answered ${first.status} ${JSON.stringify(first.body)}`);
  }
  // Warm-up: the load's parallel slots of each.
  await load(url, one, { connections, duration: 2 });
  await load(url, many, { connections, duration: 3, lockstep });
  const runs = { one: [], many: [] };
  for (let round = 0; round < rounds; round++) {
    runs.one.push(await load(url, one, { connections, duration, pgid }));
    runs.many.push(await load(url, many, { connections, duration, lockstep, pgid }));
    const cpu = (r) => (Number.isNaN(r.cpuMs) ? "" : ` (${r.cpuMs.toFixed(1)} CPU ms each)`);
    console.error(`round ${round + 1}: one action ${runs.one.at(-1).rps} req/s${cpu(runs.one.at(-1))}, ${actions} actions ${runs.many.at(-1).rps} req/s${cpu(runs.many.at(-1))}`);
  }
  const summary = (xs) => ({
    rps: median(xs.map((r) => r.rps)),
    p50: median(xs.map((r) => r.p50)),
    p99: median(xs.map((r) => r.p99)),
    cpuMs: median(xs.map((r) => r.cpuMs)),
  });
  return { one: summary(runs.one), many: summary(runs.many) };
}

export const TABLE_HEAD = [
  "| host | one action req/s | p50 / p99 ms | N actions req/s | p50 / p99 ms | N ÷ one | N actions p99 ÷ p50 |",
  "|---|---|---|---|---|---|---|",
];

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      host: { type: "string", default: "cloudflare" },
      actions: { type: "string", default: "100" },
      duration: { type: "string", default: "10" },
      rounds: { type: "string", default: "2" },
      connections: { type: "string", default: "10" },
      lockstep: { type: "boolean", default: false },
      "no-head": { type: "boolean", default: false },
    },
  });
  if (values.host !== "cloudflare" && values.host !== "node") throw new Error(`--host cloudflare or node, not ${values.host}`);
  const server =
    values.host === "node"
      ? { ...(await startNodeCluster("edgewhisk_bench_spread")), label: "Node host (one controller, one invoker)" }
      : { ...(await startLocalServer("edgewhisk-spread-")), label: "Cloudflare host (`npm start`)" };
  const stopOnSignal = () => void Promise.resolve(server.stop()).then(() => process.exit(130));
  process.once("SIGINT", stopOnSignal);
  try {
    await prepare(server);
    const actions = Number(values.actions);
    const r = await measureSpread(server.url, {
      actions,
      duration: Number(values.duration),
      rounds: Number(values.rounds),
      connections: Number(values.connections),
      lockstep: values.lockstep,
      pgid: server.pgid,
    });
    if (!values["no-head"]) {
      console.log(
        `Command: \`node bench/spread.mjs --host ${values.host} --actions ${actions} --duration ${values.duration} --rounds ${values.rounds} --connections ${values.connections}${values.lockstep ? " --lockstep" : ""}\` ` +
          `(rounds alternate; medians; ${values.lockstep ? "each connection walks the list of actions from the first" : "every request takes the next action of one rotation"})`,
      );
      console.log();
      console.log(TABLE_HEAD.join("\n").replaceAll("N ", `${actions} `));
    }
    console.log(
      `| ${server.label} | ${r.one.rps.toFixed(0)} | ${r.one.p50} / ${r.one.p99} | ${r.many.rps.toFixed(0)} | ${r.many.p50} / ${r.many.p99} | ` +
        `${(r.many.rps / r.one.rps).toFixed(2)}× | ${(r.many.p99 / Math.max(1, r.many.p50)).toFixed(1)}× |`,
    );
  } finally {
    process.off("SIGINT", stopOnSignal);
    await server.stop();
  }
}
