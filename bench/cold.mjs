#!/usr/bin/env node
// Cold starts alone, on every host variant, against the warm invoke of the
// same version right after each: edgewhisk with the Worker Loader in the
// invoker's process (as deployed), `npm start` (actions in the isolate
// sidecar), and the Node host (one controller, one invoker; needs
// DATABASE_URL/NATS_URL). The same measure as bench/invoke.mjs's and
// bench/node-cluster.mjs's cold parts, without their minutes of load, for
// work on the cold path.
//
//   node bench/cold.mjs [--cold 20] [--hosts inprocess,sidecar,node] [--log DIR]
//
// --log keeps each server's output in DIR (wrangler dev's console.log lines).
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, openSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { api, freePort, median, percentile, ROOT, startNodeCluster, waitFor } from "./local-server.mjs";

const { values: options } = parseArgs({
  options: {
    cold: { type: "string", default: "20" },
    hosts: { type: "string", default: "inprocess,sidecar,node" },
    log: { type: "string" },
  },
});
const COLD_SAMPLES = Number(options.cold);
const WRANGLER = join(ROOT, "node_modules/.bin/wrangler");
const HELLO = "function main(params) { return { payload: 'Hello, ' + (params.name || 'World') + '!' }; }";
// wrangler and `npm start` need the Node 22 of the `node` devDependency, which npm scripts put first on PATH.
const ENV = { ...process.env, PATH: `${join(ROOT, "node_modules/.bin")}:${process.env.PATH}`, WRANGLER_SEND_METRICS: "false", CI: "true" };

function serve(name, command, args, env = {}) {
  const out = options.log ? openSync(join(options.log, `${name}.log`), "w") : "ignore";
  const child = spawn(command, args, { cwd: ROOT, env: { ...ENV, ...env }, detached: true, stdio: ["ignore", out, out] });
  return () => {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
  };
}

async function cloudflare(name, state) {
  const [port, inspector] = await Promise.all([freePort(), freePort()]);
  const dev = ["--inspector-port", String(inspector), "--show-interactive-dev-session=false"];
  let stop;
  if (name === "sidecar") {
    stop = serve(name, "npm", ["start", "--", ...dev], { PORT: String(port), EDGEWHISK_STATE: state });
  } else {
    const migrated = spawnSync(WRANGLER, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state], { cwd: ROOT, env: ENV, stdio: "ignore" });
    if (migrated.status !== 0) throw new Error("could not apply the D1 migrations");
    stop = serve(name, WRANGLER, ["dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", state, ...dev]);
  }
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/api/v1`);
  const lifted = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "scripts/wskadmin.ts"), "limits", "set", "guest", "--invocationsPerMinute", "1000000000"], {
    cwd: ROOT,
    env: { ...ENV, EDGEWHISK_STATE: state },
    stdio: "ignore",
  });
  if (lifted.status !== 0) throw new Error("could not lift the guest namespace's invocation limit");
  return { url, stop };
}

/** First invokes of new versions, each followed by the invoke right after it; sequential. */
async function coldStarts(url) {
  const samples = [];
  const timed = async () => {
    const started = performance.now();
    const res = await api(url, "POST", "/api/v1/namespaces/_/actions/cold?blocking=true");
    if (res.status !== 200) throw new Error(`invoke answered ${res.status} ${JSON.stringify(res.body)}`);
    return { latency: performance.now() - started, initTime: res.body.annotations?.find((a) => a.key === "initTime")?.value, duration: res.body.duration };
  };
  // One version first, so that the action's invoker and isolate host are up before the samples.
  for (let n = -1; n < COLD_SAMPLES; n++) {
    const put = await api(url, "PUT", "/api/v1/namespaces/_/actions/cold?overwrite=true", { exec: { kind: "nodejs:default", code: `${HELLO}\n// version ${n}` } });
    if (put.status !== 200) throw new Error(`update failed: ${JSON.stringify(put)}`);
    const cold = await timed();
    if (cold.initTime === undefined) throw new Error("the first invoke of a new version had no initTime");
    const warm = await timed();
    if (n >= 0) samples.push({ cold, warm });
  }
  const cold = samples.map((s) => s.cold.latency);
  const warm = samples.filter((s) => s.warm.initTime === undefined).map((s) => s.warm.latency);
  return {
    coldP50: median(cold),
    coldP90: percentile(cold, 0.9),
    warmP50: median(warm),
    initTimeP50: median(samples.map((s) => s.cold.initTime)),
    durationP50: median(samples.map((s) => s.cold.duration)),
    warmAgainCold: samples.length - warm.length,
    // Each cold start against the warm invoke right after it: steadier than the difference of medians when the machine's load drifts.
    pairedP50: median(samples.filter((s) => s.warm.initTime === undefined).map((s) => s.cold.latency - s.warm.latency)),
  };
}

const results = [];
const load0 = loadavg()[0];
for (const host of options.hosts.split(",")) {
  let stop;
  let state;
  try {
    let url;
    if (host === "node") {
      // Its own ops port: another server on the machine may hold the default.
      const controllerEnv = { OPS_PORT: String(await freePort()) };
      const cluster = await startNodeCluster("edgewhisk_bench_cold", { invokerEnv: { WORKERD_CHILDREN: "2" }, controllerEnv });
      stop = cluster.stop;
      cluster.wskadmin("limits", "set", "guest", "--invocationsPerMinute", "1000000000", "--concurrentInvocations", "100000");
      // The controller hears the invoker's heartbeat within a second or two of its start.
      await new Promise((r) => setTimeout(r, 2_500));
      url = cluster.url;
    } else {
      state = mkdtempSync(join(tmpdir(), "edgewhisk-bench-cold-"));
      ({ url, stop } = await cloudflare(host, state));
    }
    results.push({ host, ...(await coldStarts(url)) });
    const r = results.at(-1);
    console.error(`${host}: cold p50 ${r.coldP50.toFixed(1)} ms, warm p50 ${r.warmP50.toFixed(1)} ms, +${(r.coldP50 - r.warmP50).toFixed(1)} ms, initTime p50 ${r.initTimeP50} ms`);
  } finally {
    await stop?.();
    if (state) rmSync(state, { recursive: true, force: true });
  }
}

console.log(`Command: \`node bench/cold.mjs --cold ${COLD_SAMPLES} --hosts ${options.hosts}\` (load average ${load0.toFixed(1)} at the start)`);
console.log();
console.log("| host | cold p50 ms | cold p90 ms | warm p50 ms | cold − warm ms | p50 of (cold − next warm) ms | initTime p50 ms | duration p50 ms | second invoke cold again |");
console.log("|---|---|---|---|---|---|---|---|---|");
for (const r of results) {
  console.log(
    `| ${r.host} | ${r.coldP50.toFixed(1)} | ${r.coldP90.toFixed(1)} | ${r.warmP50.toFixed(1)} | ${(r.coldP50 - r.warmP50).toFixed(1)} | ${r.pairedP50.toFixed(1)} | ${r.initTimeP50} | ${r.durationP50} | ${r.warmAgainCold} of ${COLD_SAMPLES} |`,
  );
}
