#!/usr/bin/env node
// Measures, in one run, warm blocking invokes of a hello action against the
// floor (a plain Worker returning the same JSON, served by wrangler dev the
// same way), and first invokes of new action versions (cold starts).
//
//   npm run bench            (or: node bench/invoke.mjs [--duration 10] [--connections 10] [--rounds 3])
//
// Results are printed as a Markdown section; paste or append them to
// docs/benchmarks.md. Numbers are only comparable within one run.
import autocannon from "autocannon";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir, cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

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
const HELLO = "function main(params) { return { payload: 'Hello, ' + (params.name || 'World') + '!' }; }";

const freePort = () =>
  new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

async function serve(name, command, args, env) {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", ...env },
    detached: true,
    stdio: "ignore",
  });
  return {
    name,
    stop() {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
    },
  };
}

async function waitFor(url) {
  for (let i = 0; i < 480; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no answer from ${url}`);
}

function load(url, init = {}) {
  return new Promise((resolve, reject) => {
    autocannon(
      { url, connections: CONNECTIONS, duration: DURATION, ...init },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
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
const [edgePort, floorPort, inspectA, inspectB] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
const edge = await serve("edgewhisk", "npm", ["start", "--", "--inspector-port", String(inspectA), "--show-interactive-dev-session=false"], {
  PORT: String(edgePort),
  EDGEWHISK_STATE: state,
});
const floor = await serve("floor", join(ROOT, "node_modules/.bin/wrangler"), [
  "dev", "-c", "bench/floor/wrangler.toml", "--ip", "127.0.0.1", "--port", String(floorPort),
  "--inspector-port", String(inspectB), "--show-interactive-dev-session=false",
]);

try {
  const edgeBase = `http://127.0.0.1:${edgePort}`;
  const floorUrl = `http://127.0.0.1:${floorPort}/`;
  await Promise.all([waitFor(`${edgeBase}/api/v1`), waitFor(floorUrl)]);

  const created = await api(edgeBase, "PUT", "/api/v1/namespaces/_/actions/hello", { exec: { kind: "nodejs:default", code: HELLO } });
  if (created.status !== 200) throw new Error(`create failed: ${JSON.stringify(created)}`);
  const invokeUrl = `${edgeBase}/api/v1/namespaces/_/actions/hello?blocking=true&result=true`;
  const warm = await api(edgeBase, "POST", "/api/v1/namespaces/_/actions/hello?blocking=true&result=true");
  if (JSON.stringify(warm.body) !== JSON.stringify({ payload: "Hello, World!" })) throw new Error(JSON.stringify(warm));
  await load(floorUrl, { duration: 2 });
  await load(invokeUrl, { method: "POST", headers: { authorization: AUTH }, duration: 2 });

  const floorRuns = [];
  const invokeRuns = [];
  for (let round = 0; round < ROUNDS; round++) {
    const f = await load(floorUrl, { method: "POST" });
    const i = await load(invokeUrl, { method: "POST", headers: { authorization: AUTH } });
    if (i.non2xx || i.errors) throw new Error(`invoke run had ${i.non2xx} non-2xx answers and ${i.errors} errors`);
    floorRuns.push(f);
    invokeRuns.push(i);
    console.error(`round ${round + 1}: floor ${f.requests.average} req/s, invoke ${i.requests.average} req/s`);
  }

  const cold = [];
  for (let n = 0; n < COLD_SAMPLES; n++) {
    const code = `${HELLO}\n// version ${n}`;
    await api(edgeBase, "PUT", "/api/v1/namespaces/_/actions/hello?overwrite=true", { exec: { kind: "nodejs:default", code } });
    const started = performance.now();
    const res = await api(edgeBase, "POST", "/api/v1/namespaces/_/actions/hello?blocking=true");
    const latency = performance.now() - started;
    const initTime = res.body.annotations?.find((a) => a.key === "initTime")?.value;
    if (initTime === undefined) throw new Error("first invoke of a new version had no initTime");
    cold.push({ latency, initTime, duration: res.body.duration });
  }

  const floorRps = median(floorRuns.map((r) => r.requests.average));
  const invokeRps = median(invokeRuns.map((r) => r.requests.average));
  const row = (name, runs) =>
    `| ${name} | ${median(runs.map((r) => r.requests.average)).toFixed(0)} | ${median(runs.map((r) => r.latency.p50))} | ${median(runs.map((r) => r.latency.p99))} |`;
  const coldLatency = cold.map((c) => c.latency);
  const report = [
    `## ${new Date().toISOString().slice(0, 10)} — warm and cold invokes (wrangler dev, ${cpus().length} cores)`,
    "",
    `Command: \`npm run bench -- --duration ${DURATION} --connections ${CONNECTIONS} --rounds ${ROUNDS} --cold ${COLD_SAMPLES}\``,
    "",
    `autocannon, ${CONNECTIONS} connections, ${DURATION} s per run, ${ROUNDS} alternating rounds, medians:`,
    "",
    "| route | req/s | p50 ms | p99 ms |",
    "|---|---|---|---|",
    row("floor: plain Worker returning the same JSON", floorRuns),
    row("warm blocking invoke (`?blocking=true&result=true`)", invokeRuns),
    "",
    `Warm invoke throughput: **${(invokeRps / floorRps).toFixed(2)}× the floor** (target ≥ 0.80×).`,
    "",
    `Cold start (first invoke of a new action version, ${COLD_SAMPLES} samples): client latency p50 ${median(coldLatency).toFixed(1)} ms, p90 ${percentile(coldLatency, 0.9).toFixed(1)} ms; initTime p50 ${median(cold.map((c) => c.initTime))} ms; duration p50 ${median(cold.map((c) => c.duration))} ms.`,
    "",
  ].join("\n");
  console.log(report);
} finally {
  edge.stop();
  floor.stop();
  rmSync(state, { recursive: true, force: true });
}
