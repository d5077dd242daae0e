#!/usr/bin/env node
// Measures, in one run and against servers started the same way (wrangler
// dev): the floor (a plain Worker returning the hello JSON), the ceiling of
// this design (Worker → Durable Object → Worker Loader isolate → a stored
// record, nothing else), warm blocking invokes of a hello action, warm
// requests to a hello web action, and first invokes of new versions (cold).
// edgewhisk runs twice: as `npm start` runs it (actions in the local isolate
// sidecar, one loopback HTTP hop and a second workerd process away), and as
// a deployed Worker runs it, with the Worker Loader in the invoker's own
// process (ISOLATE_SIDECAR_URL unset) — the variant the ceiling, which has no
// sidecar either, compares with like for like.
//
// Besides throughput, each load reports the CPU time the server's whole
// process group spent per request (from /proc): on a machine shared with
// other work, req/s moves with the neighbours' load, CPU per request much less.
//
//   npm run bench -- [--duration 10] [--connections 10] [--rounds 3] [--cold 10]
//
// Prints a Markdown section for docs/benchmarks.md. Throughput depends on
// the machine and what else runs on it: compare the ratios of one run.
import autocannon from "autocannon";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { AUTH, api, freePort, groupCpuSeconds, median, percentile, waitFor } from "./local-server.mjs";

const { values: options } = parseArgs({
  options: {
    duration: { type: "string", default: "10" },
    connections: { type: "string", default: "10" },
    rounds: { type: "string", default: "3" },
    cold: { type: "string", default: "10" },
  },
});
const DURATION = Number(options.duration);
const CONNECTIONS = Number(options.connections);
const ROUNDS = Number(options.rounds);
const COLD_SAMPLES = Number(options.cold);
const ROOT = new URL("..", import.meta.url).pathname;
const WRANGLER = join(ROOT, "node_modules/.bin/wrangler");
const HELLO = "function main(params) { return { payload: 'Hello, ' + (params.name || 'World') + '!' }; }";
const EXPECTED = JSON.stringify({ payload: "Hello, World!" });

function serve(command, args, env = {}) {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", ...env },
    detached: true,
    stdio: "ignore",
  });
  const stop = () => {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
  };
  return { pgid: child.pid, stop };
}

/** CPU ms the processes of a process group have used so far (local-server.mjs). */
const groupCpuMs = (pgid) => groupCpuSeconds(pgid) * 1000;

async function serveWorker(config) {
  const [port, inspector] = await Promise.all([freePort(), freePort()]);
  const server = serve(WRANGLER, [
    "dev", "-c", config, "--ip", "127.0.0.1", "--port", String(port),
    "--inspector-port", String(inspector), "--show-interactive-dev-session=false",
  ]);
  return { url: `http://127.0.0.1:${port}/`, ...server };
}

/** edgewhisk as `npm start` serves it: wrangler dev, actions in the local isolate sidecar. */
async function serveEdgewhisk(state) {
  const [port, inspector] = await Promise.all([freePort(), freePort()]);
  const server = serve("npm", ["start", "--", "--inspector-port", String(inspector), "--show-interactive-dev-session=false"], {
    PORT: String(port),
    EDGEWHISK_STATE: state,
  });
  return { url: `http://127.0.0.1:${port}`, state, ...server };
}

/** edgewhisk as a deployed Worker runs actions: wrangler dev alone, its own Worker Loader in the invoker (no sidecar). */
async function serveEdgewhiskInProcess(state) {
  const migrated = spawnSync(WRANGLER, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state], {
    cwd: ROOT,
    env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  if (migrated.status !== 0) throw new Error("could not apply the D1 migrations");
  const [port, inspector] = await Promise.all([freePort(), freePort()]);
  const server = serve(WRANGLER, [
    "dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", state,
    "--inspector-port", String(inspector), "--show-interactive-dev-session=false",
  ]);
  return { url: `http://127.0.0.1:${port}`, state, ...server };
}

/** autocannon against `url`, with the CPU the server's process group spent per request. */
function load(url, init = {}, pgid) {
  const cpuBefore = pgid === undefined ? 0 : groupCpuMs(pgid);
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: CONNECTIONS, duration: DURATION, ...init }, (err, result) => {
      if (err) return reject(err);
      if (result.non2xx || result.errors) return reject(new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`));
      const cpuMsPerRequest = pgid === undefined ? undefined : (groupCpuMs(pgid) - cpuBefore) / result.requests.total;
      resolve({ ...result, cpuMsPerRequest });
    });
  });
}


/** The hello and webhello actions, with the guest namespace's invocation limit lifted far above the load. */
async function prepare(edge) {
  const lifted = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "scripts/wskadmin.ts"), "limits", "set", "guest", "--invocationsPerMinute", "1000000000"], {
    cwd: ROOT,
    env: { ...process.env, EDGEWHISK_STATE: edge.state },
    stdio: ["ignore", "ignore", "inherit"],
  });
  if (lifted.status !== 0) throw new Error("could not lift the guest namespace's invocation limit");
  const created = await api(edge.url, "PUT", "/api/v1/namespaces/_/actions/hello", { exec: { kind: "nodejs:default", code: HELLO } });
  if (created.status !== 200) throw new Error(`create failed: ${JSON.stringify(created)}`);
  const webCreated = await api(edge.url, "PUT", "/api/v1/namespaces/_/actions/webhello", {
    exec: { kind: "nodejs:default", code: HELLO },
    annotations: [{ key: "web-export", value: true }, { key: "final", value: true }],
  });
  if (webCreated.status !== 200) throw new Error(`create failed: ${JSON.stringify(webCreated)}`);
}

/**
 * First invokes of new versions of hello: the client's latency, what the
 * record says of the start, and the latency of the invoke right after it
 * (warm), through the same client, so the two compare like for like.
 */
async function coldStarts(base) {
  const cold = [];
  const timed = async () => {
    const started = performance.now();
    const res = await api(base, "POST", "/api/v1/namespaces/_/actions/hello?blocking=true");
    return { res, latency: performance.now() - started };
  };
  for (let n = 0; n < COLD_SAMPLES; n++) {
    await api(base, "PUT", "/api/v1/namespaces/_/actions/hello?overwrite=true", { exec: { kind: "nodejs:default", code: `${HELLO}\n// version ${n}` } });
    const { res, latency } = await timed();
    const initTime = res.body.annotations?.find((a) => a.key === "initTime")?.value;
    if (initTime === undefined) throw new Error("first invoke of a new version had no initTime");
    const warm = await timed();
    if (warm.res.body.annotations?.some((a) => a.key === "initTime")) throw new Error("the second invoke of a version started cold");
    cold.push({ latency, initTime, duration: res.body.duration, warmLatency: warm.latency });
  }
  return cold;
}

const states = [mkdtempSync(join(tmpdir(), "edgewhisk-bench-")), mkdtempSync(join(tmpdir(), "edgewhisk-bench-"))];
const servers = [];
try {
  const sidecar = await serveEdgewhisk(states[0]);
  servers.push(sidecar);
  const inProcess = await serveEdgewhiskInProcess(states[1]);
  servers.push(inProcess);
  const floor = await serveWorker("bench/floor/wrangler.toml");
  servers.push(floor);
  const ceiling = await serveWorker("bench/ceiling/wrangler.toml");
  servers.push(ceiling);
  await Promise.all([waitFor(`${sidecar.url}/api/v1`), waitFor(`${inProcess.url}/api/v1`), waitFor(floor.url), waitFor(ceiling.url)]);
  await prepare(sidecar);
  await prepare(inProcess);

  const invoke = (edge) => ({
    url: `${edge.url}/api/v1/namespaces/_/actions/hello?blocking=true&result=true`,
    init: { method: "POST", headers: { authorization: AUTH } },
    pgid: edge.pgid,
  });
  const web = (edge) => ({ url: `${edge.url}/api/v1/web/guest/default/webhello.json`, init: {}, pgid: edge.pgid });
  const targets = {
    floor: { url: floor.url, init: { method: "POST" }, pgid: floor.pgid },
    ceiling: { url: ceiling.url, init: { method: "POST" }, pgid: ceiling.pgid },
    invoke: invoke(inProcess),
    web: web(inProcess),
    invokeSidecar: invoke(sidecar),
    webSidecar: web(sidecar),
  };
  for (const [name, { url, init }] of Object.entries(targets)) {
    const res = await fetch(url, init);
    const text = await res.text();
    if (text !== EXPECTED) throw new Error(`${name} answered ${res.status} ${text}`);
    await load(url, { ...init, duration: 2 });
  }

  const runs = Object.fromEntries(Object.keys(targets).map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, { url, init, pgid }] of Object.entries(targets)) runs[name].push(await load(url, init, pgid));
    console.error(
      `round ${round + 1}: ${Object.entries(runs).map(([n, r]) => `${n} ${r.at(-1).requests.average} req/s ${r.at(-1).cpuMsPerRequest.toFixed(2)} ms CPU`).join(", ")}`,
    );
  }
  const sequential = {};
  for (const [name, { url, init }] of Object.entries(targets)) {
    sequential[name] = await new Promise((resolve, reject) =>
      autocannon({ url, connections: 1, amount: 500, ...init }, (err, result) => (err ? reject(err) : resolve(result))),
    );
  }
  const cold = { invoke: await coldStarts(inProcess.url), invokeSidecar: await coldStarts(sidecar.url) };

  const rps = (name) => median(runs[name].map((r) => r.requests.average));
  const cpu = (name) => median(runs[name].map((r) => r.cpuMsPerRequest));
  const row = (label, name) =>
    `| ${label} | ${rps(name).toFixed(0)} | ${(rps(name) / rps("floor")).toFixed(2)}× | ${(rps(name) / rps("ceiling")).toFixed(2)}× | ${cpu(name).toFixed(2)} | ${(cpu("ceiling") / cpu(name)).toFixed(2)}× | ${median(runs[name].map((r) => r.latency.p50))} | ${median(runs[name].map((r) => r.latency.p99))} | ${sequential[name].latency.p50} | ${sequential[name].latency.p99} |`;
  const coldLine = (label, name) => {
    const samples = cold[name];
    const latency = samples.map((c) => c.latency);
    const warm = median(samples.map((c) => c.warmLatency));
    return `- ${label}: client latency p50 ${median(latency).toFixed(1)} ms, p90 ${percentile(latency, 0.9).toFixed(1)} ms; the next (warm) invoke p50 ${warm.toFixed(1)} ms, so cold is warm + ${(median(latency) - warm).toFixed(1)} ms; initTime p50 ${median(samples.map((c) => c.initTime))} ms; duration p50 ${median(samples.map((c) => c.duration))} ms.`;
  };
  console.log(
    [
      `## ${new Date().toISOString().slice(0, 10)} — warm invokes, web actions and cold starts (wrangler dev, ${cpus().length} cores)`,
      "",
      `Command: \`npm run bench -- --duration ${DURATION} --connections ${CONNECTIONS} --rounds ${ROUNDS} --cold ${COLD_SAMPLES}\``,
      "",
      `autocannon; throughput with ${CONNECTIONS} connections, ${DURATION} s per run, ${ROUNDS} rounds in turn (medians); CPU ms per request of the server's whole process group (median of the rounds; "CPU × ceiling" is the ceiling's CPU per request over the route's); latency also sequential (1 connection, 500 requests):`,
      "",
      "| route | req/s | × floor | × ceiling | CPU ms/req | CPU × ceiling | p50 ms | p99 ms | sequential p50 ms | sequential p99 ms |",
      "|---|---|---|---|---|---|---|---|---|---|",
      row("floor: plain Worker returning the same JSON", "floor"),
      row("ceiling of the design: Worker → DO → loader isolate → stored record", "ceiling"),
      row("edgewhisk warm blocking invoke (`?blocking=true&result=true`), Worker Loader in process", "invoke"),
      row("edgewhisk warm web action (`/api/v1/web/guest/default/webhello.json`), Worker Loader in process", "web"),
      row("edgewhisk warm blocking invoke, `npm start` (isolate sidecar)", "invokeSidecar"),
      row("edgewhisk warm web action, `npm start` (isolate sidecar)", "webSidecar"),
      "",
      `Cold start (first invoke of a new action version, ${COLD_SAMPLES} samples):`,
      "",
      coldLine("Worker Loader in process", "invoke"),
      coldLine("`npm start` (isolate sidecar)", "invokeSidecar"),
      "",
    ].join("\n"),
  );
} finally {
  for (const server of servers) server.stop();
  for (const state of states) rmSync(state, { recursive: true, force: true });
}
