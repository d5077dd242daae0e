#!/usr/bin/env node
// What single steps of a warm blocking invoke cost in CPU under wrangler dev
// (bench/stage-costs/worker.ts): each step runs N times in a loop inside one
// request, and the CPU the server's process group used meanwhile, less that
// of an empty request, is divided by N. CPU time moves much less with the
// neighbours' load than req/s does, so on a shared machine this tells where
// a request's milliseconds go when a throughput comparison cannot; it
// counts no HTTP, and a step's cost is its own, not its share of a request
// (a D1 call is made once per batch of records, not per record).
//
//   node bench/stage-costs.mjs [--rounds 3] [--scale 1] [--steps name,name]
//
// Prints a Markdown table: the median of the rounds, and every round.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { freePort, groupCpuSeconds, median, waitFor } from "./local-server.mjs";

const { values: options } = parseArgs({
  options: { rounds: { type: "string", default: "3" }, scale: { type: "string", default: "1" }, steps: { type: "string" } },
});
const ROUNDS = Number(options.rounds);
const ROOT = new URL("..", import.meta.url).pathname;

/** Each step and how many times a request repeats it. */
const ALL_STEPS = [
  ["object-rpc", 1000, "Worker → Durable Object RPC, answering null"],
  ["object-rpc-answering-a-record", 1000, "the same, answering a hello activation record"],
  ["storage-put-each", 1000, "object storage: put one batch of one record, its commit awaited (a timer)"],
  ["timer-fired-in-object", 2000, "a 0 ms timer fired in the object (the previous step's timer alone)"],
  ["alarm-set-and-deleted", 500, "object alarm: set 60 s ahead, then deleted, each after a 0 ms timer (two timers included)"],
  ["alarm-set-and-fired", 200, "object alarm: set for now and fired (its alarm() called)"],
  ["storage-list-one", 2000, "object storage: list a prefix holding one batch"],
  ["storage-get-put", 5000, "object storage: get and put a counter (a rate grant)"],
  ["d1-insert-1-per-call", 200, "D1: one batch call inserting 1 activation row"],
  ["d1-insert-10-per-call", 1000, "D1: per row, batch calls inserting 10 rows each"],
  ["controller-js", 2000, "the controller's Hono app for one blocking invoke, ports in memory (no HTTP, no RPC)"],
  ["executor-js", 2000, "the invoker's executor for one activation, isolate answering at once, no record kept"],
  ["executor-and-outbox", 500, "the same, its record through the outbox into object storage (D1 write dropped)"],
  ["executor-and-outbox-10-at-once", 2000, "the same, 10 activations at a time (records batched together)"],
  ["timer-set-and-cleared", 20000, "a timer set and cleared in the Worker (the blocking wait's)"],
];
/** `--steps a,b`: only those steps (the empty request is always measured). */
const STEPS = options.steps ? ALL_STEPS.filter(([name]) => options.steps.split(",").includes(name)) : ALL_STEPS;

/** CPU ms the processes of a process group have used so far (local-server.mjs). */
const groupCpuMs = (pgid) => groupCpuSeconds(pgid) * 1000;

const state = mkdtempSync(join(tmpdir(), "edgewhisk-stage-costs-"));
const [port, inspector] = [await freePort(), await freePort()];
const server = spawn(
  join(ROOT, "node_modules/.bin/wrangler"),
  ["dev", "-c", "bench/stage-costs/wrangler.toml", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspector),
    "--persist-to", state, "--show-interactive-dev-session=false"],
  { cwd: ROOT, detached: true, stdio: "ignore", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
);
const base = `http://127.0.0.1:${port}/`;
async function step(name, n) {
  const res = await fetch(`${base}?step=${name}&n=${n}`);
  const text = await res.text();
  if (text !== "ok") throw new Error(`${name}: ${res.status} ${text.slice(0, 300)}`);
}
async function cpuOf(name, n) {
  const before = groupCpuMs(server.pid);
  await step(name, n);
  return groupCpuMs(server.pid) - before;
}
try {
  await waitFor(`${base}?step=none`);
  await step("setup", 1);
  const costs = Object.fromEntries(STEPS.map(([name]) => [name, []]));
  for (const [name, n] of STEPS) await step(name, Math.min(n, 50));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, n] of STEPS) {
      const count = Math.max(1, Math.round(n * Number(options.scale)));
      const empty = await cpuOf("none", 1);
      costs[name].push(((await cpuOf(name, count)) - empty) / count);
    }
  }
  const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  console.log(
    [
      `Command: \`node bench/stage-costs.mjs --rounds ${ROUNDS} --scale ${options.scale}${options.steps ? ` --steps ${options.steps}` : ""}\` (load average at the end: ${load})`,
      "",
      "| step | µs CPU each (median) | every round |",
      "|---|---|---|",
      ...STEPS.map(([name, , label]) => `| ${label} | ${(median(costs[name]) * 1000).toFixed(0)} | ${costs[name].map((ms) => (ms * 1000).toFixed(0)).join(", ")} |`),
      "",
    ].join("\n"),
  );
} finally {
  try {
    process.kill(-server.pid, "SIGKILL");
  } catch {}
  rmSync(state, { recursive: true, force: true });
}
