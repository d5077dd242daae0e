#!/usr/bin/env node
// Measures, in one run and against servers started the same way (wrangler
// dev): the floor (a plain Worker returning the hello JSON), the ceiling of
// this design (Worker → Durable Object → Worker Loader isolate → a stored
// record, nothing else), warm blocking invokes of a hello action, warm
// requests to a hello web action, and first invokes of new versions (cold).
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
import { freePort, waitFor } from "./local-server.mjs";

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
const GUEST = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP";
const AUTH = `Basic ${Buffer.from(GUEST).toString("base64")}`;
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
  return () => {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
  };
}

async function serveWorker(config) {
  const [port, inspector] = await Promise.all([freePort(), freePort()]);
  const stop = serve(WRANGLER, [
    "dev", "-c", config, "--ip", "127.0.0.1", "--port", String(port),
    "--inspector-port", String(inspector), "--show-interactive-dev-session=false",
  ]);
  return { url: `http://127.0.0.1:${port}/`, stop };
}

function load(url, init = {}) {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: CONNECTIONS, duration: DURATION, ...init }, (err, result) => {
      if (err) return reject(err);
      if (result.non2xx || result.errors) return reject(new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`));
      resolve(result);
    });
  });
}

async function api(base, method, path, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: AUTH, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const percentile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

const state = mkdtempSync(join(tmpdir(), "edgewhisk-bench-"));
const [edgePort, edgeInspector] = await Promise.all([freePort(), freePort()]);
const stopEdge = serve("npm", ["start", "--", "--inspector-port", String(edgeInspector), "--show-interactive-dev-session=false"], {
  PORT: String(edgePort),
  EDGEWHISK_STATE: state,
});
const floor = await serveWorker("bench/floor/wrangler.toml");
const ceiling = await serveWorker("bench/ceiling/wrangler.toml");

try {
  const edge = `http://127.0.0.1:${edgePort}`;
  await Promise.all([waitFor(`${edge}/api/v1`), waitFor(floor.url), waitFor(ceiling.url)]);
  // The load is far above the default 120 invokes a minute a namespace gets.
  const lifted = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "scripts/wskadmin.ts"), "limits", "set", "guest", "--invocationsPerMinute", "1000000000"], {
    cwd: ROOT,
    env: { ...process.env, EDGEWHISK_STATE: state },
    stdio: ["ignore", "ignore", "inherit"],
  });
  if (lifted.status !== 0) throw new Error("could not lift the guest namespace's invocation limit");

  const created = await api(edge, "PUT", "/api/v1/namespaces/_/actions/hello", { exec: { kind: "nodejs:default", code: HELLO } });
  if (created.status !== 200) throw new Error(`create failed: ${JSON.stringify(created)}`);
  const webCreated = await api(edge, "PUT", "/api/v1/namespaces/_/actions/webhello", {
    exec: { kind: "nodejs:default", code: HELLO },
    annotations: [{ key: "web-export", value: true }, { key: "final", value: true }],
  });
  if (webCreated.status !== 200) throw new Error(`create failed: ${JSON.stringify(webCreated)}`);

  const targets = {
    floor: { url: floor.url, init: { method: "POST" } },
    ceiling: { url: ceiling.url, init: { method: "POST" } },
    invoke: { url: `${edge}/api/v1/namespaces/_/actions/hello?blocking=true&result=true`, init: { method: "POST", headers: { authorization: AUTH } } },
    web: { url: `${edge}/api/v1/web/guest/default/webhello.json`, init: {} },
  };
  for (const [name, { url, init }] of Object.entries(targets)) {
    const res = await fetch(url, init);
    const text = await res.text();
    if (text !== EXPECTED) throw new Error(`${name} answered ${res.status} ${text}`);
    await load(url, { ...init, duration: 2 });
  }

  const runs = Object.fromEntries(Object.keys(targets).map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, { url, init }] of Object.entries(targets)) runs[name].push(await load(url, init));
    console.error(`round ${round + 1}: ${Object.entries(runs).map(([n, r]) => `${n} ${r.at(-1).requests.average} req/s`).join(", ")}`);
  }
  const sequential = {};
  for (const [name, { url, init }] of Object.entries(targets)) {
    sequential[name] = await new Promise((resolve, reject) =>
      autocannon({ url, connections: 1, amount: 500, ...init }, (err, result) => (err ? reject(err) : resolve(result))),
    );
  }

  const cold = [];
  for (let n = 0; n < COLD_SAMPLES; n++) {
    await api(edge, "PUT", "/api/v1/namespaces/_/actions/hello?overwrite=true", { exec: { kind: "nodejs:default", code: `${HELLO}\n// version ${n}` } });
    const started = performance.now();
    const res = await api(edge, "POST", "/api/v1/namespaces/_/actions/hello?blocking=true");
    const latency = performance.now() - started;
    const initTime = res.body.annotations?.find((a) => a.key === "initTime")?.value;
    if (initTime === undefined) throw new Error("first invoke of a new version had no initTime");
    cold.push({ latency, initTime, duration: res.body.duration });
  }

  const rps = (name) => median(runs[name].map((r) => r.requests.average));
  const row = (label, name) =>
    `| ${label} | ${rps(name).toFixed(0)} | ${(rps(name) / rps("floor")).toFixed(2)}× | ${median(runs[name].map((r) => r.latency.p50))} | ${median(runs[name].map((r) => r.latency.p99))} | ${sequential[name].latency.p50} | ${sequential[name].latency.p99} |`;
  const coldLatency = cold.map((c) => c.latency);
  console.log(
    [
      `## ${new Date().toISOString().slice(0, 10)} — warm invokes, web actions and cold starts (wrangler dev, ${cpus().length} cores)`,
      "",
      `Command: \`npm run bench -- --duration ${DURATION} --connections ${CONNECTIONS} --rounds ${ROUNDS} --cold ${COLD_SAMPLES}\``,
      "",
      `autocannon; throughput with ${CONNECTIONS} connections, ${DURATION} s per run, ${ROUNDS} rounds in turn (medians); latency also sequential (1 connection, 500 requests):`,
      "",
      "| route | req/s | × floor | p50 ms | p99 ms | sequential p50 ms | sequential p99 ms |",
      "|---|---|---|---|---|---|---|",
      row("floor: plain Worker returning the same JSON", "floor"),
      row("ceiling of the design: Worker → DO → loader isolate → stored record", "ceiling"),
      row("edgewhisk warm blocking invoke (`?blocking=true&result=true`)", "invoke"),
      row("edgewhisk warm web action (`/api/v1/web/guest/default/webhello.json`)", "web"),
      "",
      `Cold start (first invoke of a new action version, ${COLD_SAMPLES} samples): client latency p50 ${median(coldLatency).toFixed(1)} ms, p90 ${percentile(coldLatency, 0.9).toFixed(1)} ms; initTime p50 ${median(cold.map((c) => c.initTime))} ms; duration p50 ${median(cold.map((c) => c.duration))} ms.`,
      "",
    ].join("\n"),
  );
} finally {
  stopEdge();
  floor.stop();
  ceiling.stop();
  rmSync(state, { recursive: true, force: true });
}
