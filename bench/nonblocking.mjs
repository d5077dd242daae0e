#!/usr/bin/env node
// Non-blocking throughput of the Cloudflare host (`npm start`) beside its
// warm blocking throughput: autocannon loads one warm action with blocking
// invokes, then `count` non-blocking invokes are sent with at most
// `inFlight` outstanding, and the activations list is polled until every
// accepted id has a record. Accepted/s is what the client sees;
// recorded/s (first send to last record) is what the host gets done.
//
//   node bench/nonblocking.mjs [--count 500] [--in-flight 20] [--duration 15] [--connections 10] [--rounds 1]
//
// With several rounds (each a blocking run, then a non-blocking one, so that
// both see the same machine), it ends with the median of the rounds' ratios.
//
// `measureNonBlocking(url, options)` does the same against a running server
// (used by the CLI; bench/invoke.mjs may call it).
import autocannon from "autocannon";
import { parseArgs } from "node:util";
import { AUTH, api, groupCpuSeconds, median, percentile, sendNonBlocking, startLocalServer } from "./local-server.mjs";

const HELLO = "function main(params) { return { payload: 'Hello, ' + (params.name || 'World') + '!' }; }";


/** Warm blocking req/s of `path` (autocannon, after a short warm-up); throws on any non-2xx. */
export async function blockingThroughput(url, path, { connections = 10, duration = 15, pgid } = {}) {
  const run = (seconds) =>
    new Promise((resolve, reject) =>
      autocannon(
        { url: `${url}${path}`, method: "POST", headers: { authorization: AUTH }, connections, duration: seconds },
        (err, result) => {
          if (err) return reject(err);
          if (result.non2xx || result.errors) return reject(new Error(`${result.non2xx} non-2xx, ${result.errors} errors`));
          resolve(result);
        },
      ),
    );
  await run(2);
  const cpuBefore = pgid ? groupCpuSeconds(pgid) : 0;
  const result = await run(duration);
  const cpuMs = pgid ? ((groupCpuSeconds(pgid) - cpuBefore) * 1000) / result.requests.total : NaN;
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, cpuMs };
}

/** Counts the namespace's activations named `name` (the list API's `count`). */
async function countRecorded(url, name) {
  const res = await api(url, "GET", `/api/v1/namespaces/_/activations?count=true&name=${name}`);
  if (res.status !== 200) throw new Error(`count answered ${res.status}`);
  return res.body.activations;
}


/** The waitTime annotations (accept to start of run) of the last `count` activations of `action`. */
async function waitTimes(url, action, count) {
  const waits = [];
  for (let skip = 0; skip < count; skip += 200) {
    const res = await api(url, "GET", `/api/v1/namespaces/_/activations?docs=true&name=${action}&limit=${Math.min(200, count - skip)}&skip=${skip}`);
    if (res.status !== 200) throw new Error(`list answered ${res.status}`);
    for (const record of res.body) waits.push(record.annotations.find((a) => a.key === "waitTime")?.value ?? NaN);
  }
  return waits;
}

/**
 * Sends `count` non-blocking invokes of `action` (at most `inFlight` at once)
 * and waits, up to `timeoutMs`, until that many more activations of it are
 * recorded. Times are from the first send; with `pgid`, also the server's
 * CPU ms per activation (the polling of the count included).
 */
export async function measureNonBlocking(url, { action = "hello", count = 500, inFlight = 20, timeoutMs = 120_000, pgid } = {}) {
  const before = await countRecorded(url, action);
  const cpuBefore = pgid ? groupCpuSeconds(pgid) : 0;
  const started = performance.now();
  const ids = await sendNonBlocking(url, [`/api/v1/namespaces/_/actions/${action}`], { count, inFlight });
  const acceptedMs = performance.now() - started;
  let recorded = 0;
  while (performance.now() - started < timeoutMs) {
    recorded = (await countRecorded(url, action)) - before;
    if (recorded >= count) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const recordedMs = performance.now() - started;
  const cpuMs = pgid ? ((groupCpuSeconds(pgid) - cpuBefore) * 1000) / count : NaN;
  if (recorded < count) throw new Error(`only ${recorded} of ${count} activations recorded after ${timeoutMs} ms`);
  const waits = await waitTimes(url, action, count);
  return {
    cpuMs,
    waitP50: percentile(waits, 0.5),
    waitP99: percentile(waits, 0.99),
    count,
    inFlight,
    acceptedPerSecond: count / (acceptedMs / 1000),
    recordedPerSecond: count / (recordedMs / 1000),
    acceptedMs,
    recordedMs,
    ids,
  };
}

/**
 * `api` for calls that may be repeated (reads, PUTs with overwrite), tried
 * again a few times when the connection fails: a loaded server may close a
 * kept-alive socket just as a request goes out on it.
 */
export async function apiRetrying(url, method, path, body) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await api(url, method, path, body);
    } catch (err) {
      if (attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}

/** Creates the hello action and lifts the namespace's invoke rate (the load is far above 120 a minute). */
export async function prepare(server, action = "hello") {
  server.wskadmin("limits", "set", "guest", "--invocationsPerMinute", "1000000000", "--concurrentInvocations", "100000");
  const created = await apiRetrying(server.url, "PUT", `/api/v1/namespaces/_/actions/${action}?overwrite=true`, { exec: { kind: "nodejs:default", code: HELLO } });
  if (created.status !== 200) throw new Error(`create failed: ${JSON.stringify(created)}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      count: { type: "string", default: "500" },
      "in-flight": { type: "string", default: "20" },
      duration: { type: "string", default: "15" },
      connections: { type: "string", default: "10" },
      rounds: { type: "string", default: "1" },
    },
  });
  const server = await startLocalServer("edgewhisk-nonblocking-");
  try {
    await prepare(server);
    const ratios = [];
    for (let round = 0; round < Number(values.rounds); round++) {
      const blocking = await blockingThroughput(server.url, "/api/v1/namespaces/_/actions/hello?blocking=true&result=true", {
        connections: Number(values.connections),
        duration: Number(values.duration),
        pgid: server.pgid,
      });
      const nb = await measureNonBlocking(server.url, { count: Number(values.count), inFlight: Number(values["in-flight"]), pgid: server.pgid });
      console.log(
        `warm blocking ${blocking.rps.toFixed(0)} req/s (p50 ${blocking.p50} ms, p99 ${blocking.p99} ms, ${blocking.cpuMs.toFixed(1)} CPU ms each); ` +
          `non-blocking ${nb.count} sent, ${nb.inFlight} in flight: accepted ${nb.acceptedPerSecond.toFixed(0)}/s, ` +
          `recorded ${nb.recordedPerSecond.toFixed(0)}/s (${(nb.recordedPerSecond / blocking.rps).toFixed(2)}× blocking); ` +
          `waitTime p50 ${nb.waitP50} ms, p99 ${nb.waitP99} ms; ${nb.cpuMs.toFixed(1)} CPU ms each`,
      );
      ratios.push({ rate: nb.recordedPerSecond / blocking.rps, cpu: blocking.cpuMs / nb.cpuMs });
    }
    if (ratios.length > 1) {
      console.log(
        `median of ${ratios.length} rounds (each a blocking run, then a non-blocking one): recorded ÷ blocking ` +
          `${median(ratios.map((r) => r.rate)).toFixed(2)}×; blocking CPU ÷ non-blocking CPU per activation ${median(ratios.map((r) => r.cpu)).toFixed(2)}×`,
      );
    }
  } finally {
    server.stop();
  }
}
