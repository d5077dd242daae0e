#!/usr/bin/env node
// The Node host's speed with 1 and with more invokers, in one run: for each
// count, a controller and that many invokers as separate processes on
// loopback (real PostgreSQL and NATS, a database and stream of their own),
// then
//   - warm blocking invokes (`?blocking=true&result=true`) under autocannon,
//     rotating over a dozen actions so that rendezvous hashing can spread
//     them over the invokers: req/s, p50, p99;
//   - non-blocking invokes, N sent with at most M in flight, then the
//     records counted in PostgreSQL until all are there: accepted/s and
//     recorded/s (both from the first send);
//   - cold start: the first invoke of each of K new versions of an action
//     against the invoke right after it (warm), sequential, client p50.
// Also the CPU time the controller's and invokers' processes (workerd
// children included; PostgreSQL and NATS not) spent per warm blocking and
// per non-blocking activation: on a shared machine throughput swings with
// what else runs, CPU per activation much less.
// Everything is killed (process groups) and dropped at the end.
//
//   DATABASE_URL=postgres://... NATS_URL=nats://... npm run bench:node -- \
//     [--invokers 1,3] [--duration 10] [--rounds 2] [--connections 10] \
//     [--actions 12] [--nonblocking 6000] [--inflight 20] [--cold 20] [--children 2] \
//     [--count-queries]
//
// With --count-queries the controller and invokers count the PostgreSQL
// round trips they make (bench/pg-round-trips.mjs, preloaded), and the
// non-blocking phase reports them per activation by kind of statement.
// PostgreSQL's own CPU per non-blocking activation (its backends serving
// the bench's database, read from /proc) is reported in every run.
//
// (EDGEWHISK_TEST_DATABASE_URL / EDGEWHISK_TEST_NATS_URL are read too.)
// Prints a Markdown section for docs/benchmarks.md. On a machine with fewer
// cores than processes, more invokers add no CPU: what to look for is that
// nothing gets slower per request and throughput does not drop.
import autocannon from "autocannon";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { AUTH, api, median, percentile, sendNonBlocking, startNodeCluster } from "./local-server.mjs";
import { groupCpuSeconds } from "./local-server.mjs";

const { values: options } = parseArgs({
  options: {
    invokers: { type: "string", default: "1,3" },
    duration: { type: "string", default: "10" },
    rounds: { type: "string", default: "2" },
    connections: { type: "string", default: "10" },
    actions: { type: "string", default: "12" },
    // 2000, not the 500 of the Cloudflare host: 500 take well under a second here, so the burst's start and tail weighed as much as its rate.
    // 2000 drained in about 1.3 s on a fast machine, its ramp and tail a large part of it (0.74×–0.85×, against 0.94× with 6000; 2026-11-29).
    nonblocking: { type: "string", default: "6000" },
    inflight: { type: "string", default: "20" },
    cold: { type: "string", default: "20" },
    children: { type: "string", default: "2" },
    "count-queries": { type: "boolean", default: false },
  },
});
const INVOKER_COUNTS = options.invokers.split(",").map(Number);
const DURATION = Number(options.duration);
const ROUNDS = Number(options.rounds);
const CONNECTIONS = Number(options.connections);
const ACTIONS = Number(options.actions);
const NONBLOCKING = Number(options.nonblocking);
const IN_FLIGHT = Number(options.inflight);
const COLD_SAMPLES = Number(options.cold);
const HELLO = "function main(params) { return { payload: 'Hello, ' + (params.name || 'World') + '!' }; }";
const EXPECTED = JSON.stringify({ payload: "Hello, World!" });
const NAMES = Array.from({ length: ACTIONS }, (_, i) => `hello-${i}`);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const COUNT_DIR = options["count-queries"] ? mkdtempSync(join(tmpdir(), "edgewhisk-pg-count-")) : undefined;
if (COUNT_DIR) {
  // Inherited by the controller and invokers the cluster spawns.
  process.env.EDGEWHISK_PG_COUNT_DIR = COUNT_DIR;
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ""} --import ${new URL("./pg-round-trips.mjs", import.meta.url).pathname}`.trim();
}

/** Round trips to PostgreSQL each of `processes` counted so far, by kind of statement (their files are written every 100 ms). */
async function queryCounts(processes) {
  await sleep(300);
  const total = {};
  for (const { pgid } of processes) {
    const counts = JSON.parse(readFileSync(join(COUNT_DIR, `${pgid}.json`), "utf8"));
    for (const [kind, n] of Object.entries(counts)) total[kind] = (total[kind] ?? 0) + n;
  }
  return total;
}

/** CPU seconds the backends serving `db`'s database (the bench's own connection aside) have spent. */
async function postgresCpuSeconds(db) {
  const { rows } = await db.query("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");
  let ticks = 0;
  for (const { pid } of rows) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ").at(-1).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {}
  }
  return ticks / 100;
}

function load(base, duration) {
  const requests = NAMES.map((name) => ({
    method: "POST",
    path: `/api/v1/namespaces/_/actions/${name}?blocking=true&result=true`,
    headers: { authorization: AUTH },
  }));
  return new Promise((resolve, reject) => {
    autocannon({ url: base, connections: CONNECTIONS, duration, requests }, (err, result) => {
      if (err) return reject(err);
      if (result.non2xx || result.errors || result.timeouts) {
        return reject(new Error(`${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`));
      }
      resolve(result);
    });
  });
}

/** Activations each invoker has recorded since it started (its /healthz). */
async function recordedPerInvoker(cluster) {
  return Promise.all(cluster.invokers.map(async ({ url }) => (await (await fetch(`${url}/healthz`)).json()).recorded));
}

async function countRecorded(db, ids) {
  const { rows } = await db.query("SELECT count(*)::int AS n FROM activations WHERE activation_id = ANY($1)", [ids]);
  return rows[0].n;
}

/** N non-blocking invokes, at most IN_FLIGHT at once, over the actions; then polls PostgreSQL for their records. */
async function nonBlocking(cluster, cpu, controllerCpu) {
  const { default: pg } = await import("pg");
  const db = new pg.Client({ connectionString: cluster.databaseUrl });
  await db.connect();
  try {
    const ids = [];
    const processes = [...cluster.controllers, ...cluster.invokers];
    const queriesBefore = COUNT_DIR && (await queryCounts(processes));
    const pgCpuBefore = await postgresCpuSeconds(db);
    const cpuBefore = cpu();
    const controllerCpuBefore = controllerCpu();
    const started = performance.now();
    ids.push(...(await sendNonBlocking(cluster.url, NAMES.map((name) => `/api/v1/namespaces/_/actions/${name}`), { count: NONBLOCKING, inFlight: IN_FLIGHT })));
    const accepted = performance.now();
    const deadline = accepted + 120_000;
    let recorded = 0;
    while ((recorded = await countRecorded(db, ids)) < ids.length) {
      if (performance.now() > deadline) throw new Error(`only ${recorded} of ${ids.length} non-blocking activations recorded after 120 s`);
      await sleep(50);
    }
    const done = performance.now();
    const nonBlockingCpuMs = ((cpu() - cpuBefore) * 1000) / NONBLOCKING;
    const nonBlockingControllerCpuMs = ((controllerCpu() - controllerCpuBefore) * 1000) / NONBLOCKING;
    const postgresCpuMs = (((await postgresCpuSeconds(db)) - pgCpuBefore) * 1000) / NONBLOCKING;
    let roundTrips;
    if (COUNT_DIR) {
      const after = await queryCounts(processes);
      roundTrips = Object.fromEntries(
        Object.entries(after)
          .map(([kind, n]) => [kind, (n - (queriesBefore[kind] ?? 0)) / NONBLOCKING])
          .filter(([, n]) => n > 0)
          .sort((a, b) => b[1] - a[1]),
      );
    }
    return {
      postgresCpuMs,
      roundTrips,
      acceptedPerSecond: NONBLOCKING / ((accepted - started) / 1000),
      recordedPerSecond: NONBLOCKING / ((done - started) / 1000),
      nonBlockingCpuMs,
      nonBlockingControllerCpuMs,
    };
  } finally {
    await db.end();
  }
}

/**
 * First invokes of new versions of one action, each followed by a second
 * invoke; sequential. A second invoke that starts cold again (its child
 * rotated out or replaced in between) is counted, not taken as warm.
 */
async function coldStarts(cluster) {
  const cold = [];
  const warm = [];
  const initTimes = [];
  let coldAgain = 0;
  for (let n = 0; n < COLD_SAMPLES; n++) {
    const put = await api(cluster.url, "PUT", "/api/v1/namespaces/_/actions/cold?overwrite=true", {
      exec: { kind: "nodejs:default", code: `${HELLO}\n// version ${n}` },
    });
    if (put.status !== 200) throw new Error(`create failed: ${JSON.stringify(put)}`);
    for (const first of [true, false]) {
      const started = performance.now();
      const res = await api(cluster.url, "POST", "/api/v1/namespaces/_/actions/cold?blocking=true");
      const latency = performance.now() - started;
      if (res.status !== 200) throw new Error(`invoke answered ${res.status} ${JSON.stringify(res.body)}`);
      const initTime = res.body.annotations?.find((a) => a.key === "initTime")?.value;
      if (first && initTime === undefined) throw new Error("the first invoke of a new version was not cold");
      if (first) {
        cold.push(latency);
        initTimes.push(initTime);
      } else if (initTime === undefined) {
        warm.push(latency);
      } else {
        coldAgain++;
      }
    }
  }
  return { coldP50: median(cold), coldP90: percentile(cold, 0.9), warmP50: median(warm), initTimeP50: median(initTimes), coldAgain };
}

/** Runs that started their isolate (cold), over the invokers, since they started (their /metrics). */
async function coldRuns(cluster) {
  let total = 0;
  for (const { url } of cluster.invokers) {
    const text = await (await fetch(`${url}/metrics`)).text();
    for (const m of text.matchAll(/^edgewhisk_invoke_duration_seconds_count\{start="cold"\} (\d+)/gm)) total += Number(m[1]);
  }
  return total;
}

/** workerd children the invokers rotated out or replaced since they started (their /metrics). */
async function childChanges(cluster) {
  let total = 0;
  for (const { url } of cluster.invokers) {
    const text = await (await fetch(`${url}/metrics`)).text();
    for (const m of text.matchAll(/^edgewhisk_workerd_(?:rotations|restarts)_total(?:\{[^}]*\})? (\d+)/gm)) total += Number(m[1]);
  }
  return total;
}

async function measure(invokers) {
  // OPS_PORT 0: any free port, not the default 9090 another cluster on this machine may hold (the controller would not start).
  const cluster = await startNodeCluster("edgewhisk_bench_node", {
    invokers,
    invokerEnv: { WORKERD_CHILDREN: options.children },
    controllerEnv: { OPS_PORT: "0" },
  });
  const stopOnSignal = () => void cluster.stop().then(() => process.exit(130));
  process.once("SIGINT", stopOnSignal);
  try {
    // The load is far above the default 120 invokes a minute a namespace gets.
    cluster.wskadmin("limits", "set", "guest", "--invocationsPerMinute", "1000000000", "--concurrentInvocations", "100000");
    for (const name of NAMES) {
      const created = await api(cluster.url, "PUT", `/api/v1/namespaces/_/actions/${name}`, { exec: { kind: "nodejs:default", code: HELLO } });
      if (created.status !== 200) throw new Error(`create failed: ${JSON.stringify(created)}`);
    }
    // The controller hears every invoker's heartbeat within a second or two of its start.
    await sleep(2_500);
    for (const name of NAMES) {
      const res = await fetch(`${cluster.url}/api/v1/namespaces/_/actions/${name}?blocking=true&result=true`, { method: "POST", headers: { authorization: AUTH } });
      const text = await res.text();
      if (text !== EXPECTED) throw new Error(`${name} answered ${res.status} ${text}`);
    }
    await load(cluster.url, 3);

    const cpuOf = (processes) => processes.reduce((sum, { pgid }) => sum + groupCpuSeconds(pgid), 0);
    const cpu = () => cpuOf([...cluster.controllers, ...cluster.invokers]);
    const controllerCpu = () => cpuOf(cluster.controllers);
    const before = await recordedPerInvoker(cluster);
    const coldBefore = await coldRuns(cluster);
    const runs = [];
    const cpuBefore = cpu();
    const controllerCpuBefore = controllerCpu();
    for (let round = 0; round < ROUNDS; round++) {
      runs.push(await load(cluster.url, DURATION));
      console.error(`${invokers} invoker(s), round ${round + 1}: ${runs.at(-1).requests.average} req/s`);
    }
    const blockingRequests = runs.reduce((sum, r) => sum + r.requests.total, 0);
    const blockingCpuMs = ((cpu() - cpuBefore) * 1000) / blockingRequests;
    const blockingControllerCpuMs = ((controllerCpu() - controllerCpuBefore) * 1000) / blockingRequests;
    const after = await recordedPerInvoker(cluster);
    const share = after.map((n, i) => n - before[i]);
    const spread = share.map((n) => `${Math.round((100 * n) / share.reduce((a, b) => a + b, 0))} %`).join(" / ");

    const coldBlocking = (await coldRuns(cluster)) - coldBefore;
    const queued = await nonBlocking(cluster, cpu, controllerCpu);
    const coldNonBlocking = (await coldRuns(cluster)) - coldBefore - coldBlocking;
    console.error(`${invokers} invoker(s): isolates started during the blocking rounds ${coldBlocking}, during the non-blocking phase ${coldNonBlocking}`);
    console.error(`${invokers} invoker(s), non-blocking: ${queued.acceptedPerSecond.toFixed(0)} accepted/s, ${queued.recordedPerSecond.toFixed(0)} recorded/s`);
    const cold = await coldStarts(cluster);
    const children = await childChanges(cluster);
    return {
      invokers,
      rps: median(runs.map((r) => r.requests.average)),
      p50: median(runs.map((r) => r.latency.p50)),
      p99: median(runs.map((r) => r.latency.p99)),
      spread,
      blockingCpuMs,
      blockingControllerCpuMs,
      ...queued,
      ...cold,
      children,
      coldBlocking,
      coldNonBlocking,
    };
  } finally {
    process.off("SIGINT", stopOnSignal);
    await cluster.stop();
  }
}

const load0 = loadavg()[0];
const results = [];
for (const invokers of INVOKER_COUNTS) results.push(await measure(invokers));

// Cold figures are undefined with --cold 0.
const f = (n) => (n === undefined ? "–" : n.toFixed(1));
console.log(`Command: \`npm run bench:node -- --invokers ${options.invokers} --duration ${DURATION} --rounds ${ROUNDS} --connections ${CONNECTIONS} --actions ${ACTIONS} --nonblocking ${NONBLOCKING} --inflight ${IN_FLIGHT} --cold ${COLD_SAMPLES} --children ${options.children}\``);
console.log();
console.log(
  `One controller; invokers with ${options.children} workerd children each; ${cpus().length} cores (load average ${load0.toFixed(1)} at the start). ` +
    `Warm blocking: autocannon, ${CONNECTIONS} connections rotating over ${ACTIONS} actions, ${DURATION} s × ${ROUNDS} rounds (medians). ` +
    `Non-blocking: ${NONBLOCKING} invokes, at most ${IN_FLIGHT} in flight, rates from the first send. ` +
    `Cold: first invoke of ${COLD_SAMPLES} new versions vs the invoke right after it, sequential ` +
    `(warm p50 over those second invokes that were warm). Children rotated or replaced: over the whole run, from the invokers' /metrics. ` +
    `CPU ms: the controller's and invokers' processes (workerd children included, PostgreSQL and NATS not) per activation, the controller's share in brackets; ` +
    `PostgreSQL CPU ms: its backends serving the bench's database, per non-blocking activation.`,
);
console.log();
console.log("| invokers | warm blocking req/s | p50 ms | p99 ms | share per invoker | CPU ms/req | non-blocking accepted/s | recorded/s | recorded ÷ blocking | CPU ms per non-blocking | PostgreSQL CPU ms per non-blocking | cold p50 ms | cold p90 ms | warm p50 ms | initTime p50 ms | second invoke cold again | children rotated or replaced |");
console.log(`|${"---|".repeat(17)}`);
for (const r of results) {
  console.log(
    `| ${r.invokers} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.spread} | ${r.blockingCpuMs.toFixed(2)} (${r.blockingControllerCpuMs.toFixed(2)}) | ${r.acceptedPerSecond.toFixed(0)} | ${r.recordedPerSecond.toFixed(0)} | ` +
      `${(r.recordedPerSecond / r.rps).toFixed(2)}× | ${r.nonBlockingCpuMs.toFixed(2)} (${r.nonBlockingControllerCpuMs.toFixed(2)}) | ${r.postgresCpuMs.toFixed(2)} | ${f(r.coldP50)} | ${f(r.coldP90)} | ${f(r.warmP50)} | ${r.initTimeP50} | ${r.coldAgain} of ${COLD_SAMPLES} | ${r.children} |`,
  );
}
console.log();
for (const r of results) {
  console.log(`Isolates started (cold runs), ${r.invokers} invoker(s): ${r.coldBlocking} during the warm blocking rounds, ${r.coldNonBlocking} during the non-blocking phase.`);
}
for (const r of results) {
  if (!r.roundTrips) continue;
  const total = Object.values(r.roundTrips).reduce((a, b) => a + b, 0);
  const kinds = Object.entries(r.roundTrips).map(([kind, n]) => `${kind} ${n.toFixed(2)}`).join(", ");
  console.log();
  console.log(`PostgreSQL round trips per non-blocking activation, ${r.invokers} invoker(s) (controller and invokers, from the first send to the last record): ${total.toFixed(2)} (${kinds}).`);
}
if (COUNT_DIR) rmSync(COUNT_DIR, { recursive: true, force: true });
