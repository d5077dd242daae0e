// Python actions in isolates: cold start and warm latency against a Node
// action's, and the memory each warm Python isolate keeps, measured on the
// isolate host both local hosts share (a WorkerdSupervisor with real workerd
// children, as `npm start` and the Node host run it), without an API in front.
//
//   node --import tsx bench/python.mjs [cold samples = 12] [warm samples = 200] [--server] [--compare <tree>]
//
// With --server it also measures through the API of `npm start` (client
// latency of blocking invokes: a new action's first invoke, and warm ones)
// for a Python and a Node action. With --compare, the isolate host of
// another checkout (its own src/ and node_modules, e.g. the tree before a
// change) runs beside this one's, and their cold starts alternate sample by
// sample, so that both see the same neighbours' load.
//
// Cold: each sample is a new action (a new isolate on a child that has
// already loaded one Python isolate, so Pyodide's one-time cost is left out
// and reported apart), taken once the child is idle again (a child that runs
// Python boots a spare interpreter after each new Python isolate:
// host-worker.js), with the CPU time the workerd child spent on it until
// then, background included (less swayed by a loaded machine than the
// latency). Warm: the same isolate, invoked one call at a time. Memory: the
// child's resident memory after each cold start, over the one before.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { api, median, percentile, startLocalServer } from "./local-server.mjs";

const args = process.argv.slice(2);
const compareAt = args.indexOf("--compare");
const compareRoot = compareAt >= 0 ? resolve(args[compareAt + 1]) : undefined;
const numbers = args.filter((arg, i) => !arg.startsWith("--") && (compareAt < 0 || i !== compareAt + 1));
const coldSamples = Number(numbers[0] ?? 12);
const warmSamples = Number(numbers[1] ?? 200);

const PY = "def main(args):\n    return {'greeting': 'Hello ' + args.get('name', 'stranger')}\n";
const JS = "function main(args) { return { greeting: 'Hello ' + (args.name || 'stranger') }; }";

/** One checkout's isolate host: its supervisor (one workerd child), runners and module builder. */
async function isolateHost(name, root) {
  const load = (path) => import(pathToFileURL(resolve(root, path)).href);
  const [{ WorkerdSupervisor }, { pythonRunnerSource, runnerSource }, { actionModules }] = await Promise.all([
    load("src/node/workerd/supervisor.ts"),
    load("src/node/runner-source.ts"),
    load("src/runtime/modules.ts"),
  ]);
  const supervisor = new WorkerdSupervisor({ memoryLimitMb: 8192, children: 1 });
  await supervisor.start();
  const spec = (key, code, kind) => ({
    key: `guest>guest/${key}@0.0.1#|main`,
    memoryMb: 256,
    timeoutMs: 60_000,
    build: async () => actionModules(runnerSource, { code, binary: false, main: "main", kind }, {}, pythonRunnerSource),
  });
  return { name, supervisor, spec, cold: [], coldInit: [], coldCpu: [], growth: [] };
}

const request = () => ({
  params: { name: "bench" },
  initEnv: {},
  mainName: "main",
  activationId: "0".repeat(32),
  transactionId: "bench",
  namespace: "guest",
  actionName: "/guest/bench",
  actionVersion: "0.0.1",
  apiHost: "http://127.0.0.1",
  deadline: Date.now() + 60_000,
  logLimitBytes: 1 << 20,
});
const childOf = async (host) => (await host.supervisor.status()).children[0];
/** CPU ms (user + system) a process has used, from /proc. */
const cpuMs = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
};
const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** Waits until the child has used no CPU for 200 ms (at most 10 s): what a call set going in its background is done. */
async function settle(pid) {
  for (let i = 0, last = -1; i < 50; i++) {
    const now = cpuMs(pid);
    if (now === last) return;
    last = now;
    await delay(200);
  }
}
/** One call; a cold one's CPU counts all the child spent until it settled, background work included. */
async function timed(host, s, { cold = false } = {}) {
  const { pid } = await childOf(host);
  const cpuBefore = cpuMs(pid);
  const started = performance.now();
  const run = await host.supervisor.run(s, request());
  const ms = performance.now() - started;
  if (run.reply.outcome !== "result") throw new Error(JSON.stringify(run.reply));
  if (cold) await settle(pid);
  return { ms, run, cpu: cpuMs(pid) - cpuBefore };
}
const childRss = async (host) => {
  // status() reports the last memory sample (every 250 ms): wait for a fresh one.
  await delay(600);
  return (await childOf(host)).rssMb;
};

const hosts = [await isolateHost("this tree", new URL("..", import.meta.url).pathname)];
if (compareRoot) hosts.push(await isolateHost(compareRoot, compareRoot));
for (const host of hosts) {
  host.bare = await childRss(host);
  host.first = await timed(host, host.spec("py-first", PY, "python:3"), { cold: true });
  host.afterFirst = await childRss(host);
  host.before = host.afterFirst;
}
for (let i = 0; i < coldSamples; i++) {
  for (const host of hosts) {
    const { ms, run, cpu } = await timed(host, host.spec(`py-cold-${i}`, PY, "python:3"), { cold: true });
    host.cold.push(ms);
    host.coldCpu.push(cpu);
    host.coldInit.push(run.reply.initMs ?? 0);
    const after = await childRss(host);
    host.growth.push(after - host.before);
    host.before = after;
  }
}

async function warm(host, key, code, kind) {
  const s = host.spec(key, code, kind);
  await timed(host, s);
  const times = [];
  for (let i = 0; i < warmSamples; i++) times.push((await timed(host, s)).ms);
  return times;
}
const f = (ms) => `${ms.toFixed(1)} ms`;
for (const host of hosts) {
  const warmNode = await warm(host, "js-warm", JS, "nodejs:20");
  const warmPython = await warm(host, "py-cold-0", PY, "python:3");
  await host.supervisor.stop();
  const { first, cold, coldCpu, coldInit, growth } = host;
  if (hosts.length > 1) console.log(`-- ${host.name}`);
  console.log(`first Python isolate of a child: ${f(first.ms)}, ${first.cpu} CPU ms (child ${host.bare} MB → ${host.afterFirst} MB)`);
  console.log(`cold start, new Python isolate (n=${cold.length}): p50 ${f(median(cold))}, p90 ${f(percentile(cold, 0.9))}; runner's init p50 ${f(median(coldInit))}; child CPU p50 ${median(coldCpu)} ms`);
  console.log(`warm, one call at a time (n=${warmSamples}): Python p50 ${f(median(warmPython))} p90 ${f(percentile(warmPython, 0.9))}; Node p50 ${f(median(warmNode))} p90 ${f(percentile(warmNode, 0.9))}; ratio ${(median(warmPython) / median(warmNode)).toFixed(2)}x`);
  console.log(`resident memory per warm Python isolate: median ${median(growth)} MB (min ${Math.min(...growth)}, max ${Math.max(...growth)})`);
}

if (process.argv.includes("--server")) {
  const server = await startLocalServer("edgewhisk-bench-python-");
  try {
    server.wskadmin("limits", "set", "guest", "--invocationsPerMinute", "1000000");
    const invoke = async (name) => {
      const started = performance.now();
      const res = await api(server.url, "POST", `/api/v1/namespaces/_/actions/${name}?blocking=true`, { name: "bench" });
      if (res.status !== 200) throw new Error(`${name}: ${res.status} ${JSON.stringify(res.body)}`);
      return { ms: performance.now() - started, initTime: res.body.annotations.find((a) => a.key === "initTime")?.value };
    };
    const create = async (name, code, kind) => {
      const res = await api(server.url, "PUT", `/api/v1/namespaces/_/actions/${name}`, { exec: { kind, code } });
      if (res.status !== 200) throw new Error(`create ${name}: ${res.status}`);
    };
    const firsts = async (kind, code, prefix) => {
      const samples = [];
      // One first: its child's one-time Pyodide cost is not a cold start's.
      await create(`${prefix}-warmup`, code, kind);
      await invoke(`${prefix}-warmup`);
      for (let i = 0; i < coldSamples; i++) {
        await create(`${prefix}-${i}`, code, kind);
        samples.push(await invoke(`${prefix}-${i}`));
      }
      return samples;
    };
    const warmOf = async (name) => {
      const times = [];
      for (let i = 0; i < warmSamples; i++) times.push((await invoke(name)).ms);
      return times;
    };
    const pyCold = await firsts("python:3", PY, "py");
    const jsCold = await firsts("nodejs:20", JS, "js");
    const pyWarm = await warmOf("py-0");
    const jsWarm = await warmOf("js-0");
    const ms = (xs) => xs.map((x) => x.ms);
    console.log(`npm start, a new action's first blocking invoke (n=${coldSamples}): Python p50 ${f(median(ms(pyCold)))} p90 ${f(percentile(ms(pyCold), 0.9))} (initTime p50 ${median(pyCold.map((x) => x.initTime))} ms); Node p50 ${f(median(ms(jsCold)))} (initTime p50 ${median(jsCold.map((x) => x.initTime))} ms)`);
    console.log(`npm start, warm blocking invoke (n=${warmSamples}): Python p50 ${f(median(pyWarm))} p90 ${f(percentile(pyWarm, 0.9))}; Node p50 ${f(median(jsWarm))} p90 ${f(percentile(jsWarm, 0.9))}; ratio ${(median(pyWarm) / median(jsWarm)).toFixed(2)}x`);
  } finally {
    server.stop();
  }
}
