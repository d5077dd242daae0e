// Python actions in isolates: cold start and warm latency against a Node
// action's, and the memory each warm Python isolate keeps, measured on the
// isolate host both local hosts share (a WorkerdSupervisor with real workerd
// children, as `npm start` and the Node host run it), without an API in front.
//
//   node --import tsx bench/python.mjs [cold samples = 12] [warm samples = 200] [--server]
//
// With --server it also measures through the API of `npm start` (client
// latency of blocking invokes: a new action's first invoke, and warm ones)
// for a Python and a Node action.
//
// Cold: each sample is a new action (a new isolate on a child that has
// already loaded one Python isolate, so Pyodide's one-time cost is left out
// and reported apart). Warm: the same isolate, invoked one call at a time.
// Memory: the child's resident memory after each cold start, over the one before.
import { api, median, percentile, startLocalServer } from "./local-server.mjs";
import { WorkerdSupervisor } from "../src/node/workerd/supervisor.ts";
import { pythonRunnerSource, runnerSource } from "../src/node/runner-source.ts";
import { actionModules } from "../src/runtime/modules.ts";

const numbers = process.argv.slice(2).filter((arg) => !arg.startsWith("--"));
const coldSamples = Number(numbers[0] ?? 12);
const warmSamples = Number(numbers[1] ?? 200);

const PY = "def main(args):\n    return {'greeting': 'Hello ' + args.get('name', 'stranger')}\n";
const JS = "function main(args) { return { greeting: 'Hello ' + (args.name || 'stranger') }; }";

const supervisor = new WorkerdSupervisor({ memoryLimitMb: 8192, children: 1 });
await supervisor.start();

const spec = (key, code, kind) => ({
  key: `guest>guest/${key}@0.0.1#|main`,
  memoryMb: 256,
  timeoutMs: 60_000,
  build: async () => actionModules(runnerSource, { code, binary: false, main: "main", kind }, {}, pythonRunnerSource),
});
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
const rss = async () => (await supervisor.status()).children[0].rssMb;
async function timed(s) {
  const started = performance.now();
  const run = await supervisor.run(s, request());
  if (run.reply.outcome !== "result") throw new Error(JSON.stringify(run.reply));
  return { ms: performance.now() - started, run };
}
const childRss = async () => {
  // status() reports the last memory sample (every 250 ms): wait for a fresh one.
  await new Promise((resolve) => setTimeout(resolve, 600));
  return rss();
};

const bare = await childRss();
const first = await timed(spec("py-first", PY, "python:3"));
const afterFirst = await childRss();

const cold = [];
const coldInit = [];
const growth = [];
let before = afterFirst;
for (let i = 0; i < coldSamples; i++) {
  const { ms, run } = await timed(spec(`py-cold-${i}`, PY, "python:3"));
  cold.push(ms);
  coldInit.push(run.reply.initMs ?? 0);
  const after = await childRss();
  growth.push(after - before);
  before = after;
}

async function warm(key, code, kind) {
  const s = spec(key, code, kind);
  await timed(s);
  const times = [];
  for (let i = 0; i < warmSamples; i++) times.push((await timed(s)).ms);
  return times;
}
const warmNode = await warm("js-warm", JS, "nodejs:20");
const warmPython = await warm("py-cold-0", PY, "python:3");
await supervisor.stop();

const f = (ms) => `${ms.toFixed(1)} ms`;
console.log(`first Python isolate of a child: ${f(first.ms)} (child ${bare} MB → ${afterFirst} MB)`);
console.log(`cold start, new Python isolate (n=${cold.length}): p50 ${f(median(cold))}, p90 ${f(percentile(cold, 0.9))}; runner's init p50 ${f(median(coldInit))}`);
console.log(`warm, one call at a time (n=${warmSamples}): Python p50 ${f(median(warmPython))} p90 ${f(percentile(warmPython, 0.9))}; Node p50 ${f(median(warmNode))} p90 ${f(percentile(warmNode, 0.9))}; ratio ${(median(warmPython) / median(warmNode)).toFixed(2)}x`);
console.log(`resident memory per warm Python isolate: median ${median(growth)} MB (min ${Math.min(...growth)}, max ${Math.max(...growth)})`);

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
