#!/usr/bin/env node
// The same warm load against edgewhisk built from several trees (each its own
// checkout with node_modules), and against this tree's ceiling of the design
// (bench/ceiling), taken in turn round after round, so that a change is
// compared with the tree before it under the same neighbours' load: on a
// shared machine, a bench run of one tree after the other's compares two
// different machines. Worker Loader in process (wrangler dev, no sidecar),
// as bench/invoke.mjs runs its in-process variant.
//
//   node bench/compare-trees.mjs <tree>[,<tree>…] [invoke|web|spread] [rounds=3] [seconds=5]
//
// `spread` is the warm blocking invoke spread over 100 distinct actions (one
// rotation shared by all connections, each action invoked once first), as
// bench/spread.mjs loads them.
// Prints, per round and per tree, req/s and the CPU ms per request of the
// server's whole process group; then the medians and the CPU ratio to the ceiling.
import autocannon from "autocannon";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, openSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
const roots = process.argv[2].split(",");
const kind = process.argv[3] ?? "invoke";
const rounds = Number(process.argv[4] ?? 3);
const duration = Number(process.argv[5] ?? 5);
const { api, freePort, groupCpuSeconds, waitFor, AUTH } = await import("./local-server.mjs");
const HERE = new URL("..", import.meta.url).pathname;
/** CPU ms the processes of a process group have used so far (local-server.mjs). */
const groupCpuMs = (pgid) => groupCpuSeconds(pgid) * 1000;
const SPREAD_ACTIONS = 100;
/** 100 actions, each invoked once, and a load that takes the next of them for each request. */
async function spreadTarget(url, code) {
  const paths = [];
  for (let n = 0; n < SPREAD_ACTIONS; n++) {
    await api(url, "PUT", `/api/v1/namespaces/_/actions/spread${n}`, { exec: { kind: "nodejs:default", code } });
    paths.push(`/api/v1/namespaces/_/actions/spread${n}?blocking=true&result=true`);
    const r = await api(url, "POST", paths[n]);
    if (r.status !== 200) throw new Error(`spread${n}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  let next = 0;
  return { url, requests: [{ method: "POST", headers: { authorization: AUTH }, setupRequest: (request) => ({ ...request, path: paths[next++ % paths.length] }) }] };
}
const servers = [];
try {
  for (const root of roots) {
    const WRANGLER = join(root, "node_modules/.bin/wrangler");
    const state = mkdtempSync(join(tmpdir(), "lease-ab-"));
    spawnSync(WRANGLER, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state], { cwd: root, env: { ...process.env, CI: "true" }, stdio: "ignore" });
    const [port, inspector] = [await freePort(), await freePort()];
    const log = openSync(join(state, "wrangler.log"), "w");
    const child = spawn(WRANGLER, ["dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", state, "--inspector-port", String(inspector), "--show-interactive-dev-session=false"], { cwd: root, detached: true, stdio: ["ignore", log, log] });
    servers.push({ root, state, url: `http://127.0.0.1:${port}`, pgid: child.pid });
    // One after the other: servers starting together took each other's ports now and then.
    await waitFor(`http://127.0.0.1:${port}/api/v1`);
  }
  {
    const [port, inspector] = [await freePort(), await freePort()];
    const child = spawn(join(HERE, "node_modules/.bin/wrangler"), ["dev", "-c", "bench/ceiling/wrangler.toml", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspector), "--show-interactive-dev-session=false"], { cwd: HERE, detached: true, stdio: "ignore" });
    servers.push({ root: "ceiling", url: `http://127.0.0.1:${port}`, pgid: child.pid, ceiling: true });
  }
  for (const s of servers) {
    if (s.ceiling) {
      await waitFor(s.url);
      s.target = { url: s.url, method: "POST" };
      await autocannon({ ...s.target, connections: 10, duration: 2 });
      s.runs = [];
      continue;
    }
    await waitFor(`${s.url}/api/v1`);
    spawnSync(process.execPath, ["--import", "tsx", join(s.root, "scripts/wskadmin.ts"), "limits", "set", "guest", "--invocationsPerMinute", "1000000000"], { cwd: s.root, env: { ...process.env, EDGEWHISK_STATE: s.state }, stdio: "ignore" });
    const code = "function main(params) { return { payload: 'Hello, ' + (params.name || 'World') + '!' }; }";
    await api(s.url, "PUT", "/api/v1/namespaces/_/actions/webhello", { exec: { kind: "nodejs:default", code }, annotations: [{ key: "web-export", value: true }, { key: "final", value: true }] });
    await api(s.url, "PUT", "/api/v1/namespaces/_/actions/hello", { exec: { kind: "nodejs:default", code } });
    s.target = kind === "invoke"
      ? { url: `${s.url}/api/v1/namespaces/_/actions/hello?blocking=true&result=true`, method: "POST", headers: { authorization: AUTH } }
      : kind === "spread"
        ? await spreadTarget(s.url, code)
        : { url: `${s.url}/api/v1/web/guest/default/webhello.json` };
    if (kind !== "spread") {
      const r = await fetch(s.target.url, s.target);
      console.error(s.root, r.status, await r.text());
    }
    await autocannon({ ...s.target, connections: 10, duration: 2 });
    s.runs = [];
  }
  for (let round = 0; round < rounds; round++) {
    for (const s of servers) {
      const before = groupCpuMs(s.pgid);
      const result = await autocannon({ ...s.target, connections: 10, duration });
      const cpu = (groupCpuMs(s.pgid) - before) / result.requests.total;
      s.runs.push({ rps: result.requests.average, cpu, p50: result.latency.p50, bad: result.non2xx + result.errors });
      console.error(`round ${round + 1} ${s.root}: ${result.requests.average} req/s, ${cpu.toFixed(2)} CPU ms/req, p50 ${result.latency.p50}, bad ${result.non2xx + result.errors}`);
    }
  }
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const ceiling = servers.find((s) => s.ceiling);
  const ceilingCpu = med(ceiling.runs.map((r) => r.cpu));
  const ceilingRps = med(ceiling.runs.map((r) => r.rps));
  for (const s of servers) {
    const rps = med(s.runs.map((r) => r.rps));
    const cpu = med(s.runs.map((r) => r.cpu));
    console.log(`${s.root} ${s.ceiling ? "" : kind}: median ${rps} req/s (${(rps / ceilingRps).toFixed(2)}× ceiling), ${cpu.toFixed(2)} CPU ms/req (${(ceilingCpu / cpu).toFixed(2)}× ceiling)`);
  }
} finally {
  for (const s of servers) try { process.kill(-s.pgid, "SIGKILL"); } catch {}
}
