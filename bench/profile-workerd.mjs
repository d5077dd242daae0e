#!/usr/bin/env node
// A CPU profile of edgewhisk's Worker under wrangler dev (`npm start`, or
// `wrangler dev` alone), taken through workerd's own inspector rather than
// wrangler's proxy (which did not answer Profiler.enable). Every isolate of
// the Worker's script — controller, invoker and throttle objects, queue
// consumers — is in the one profile; D1's and the Queues' simulators and
// action isolates are not. Load the server from elsewhere meanwhile.
//
//   node bench/profile-workerd.mjs --url http://127.0.0.1:8787 [--seconds 8] [--out profile.cpuprofile] [--top 40]
//
// Prints the functions with the most time of their own and with the most
// time under them, by the bundle's line (wrangler keeps the bundle in
// .wrangler/tmp/dev-*/worker.js, with a source map beside it); the
// .cpuprofile opens in Chrome's DevTools. Local workerd runs every isolate
// on one thread, so (idle) is that thread's idle time.
//
// workerd reads an inspector message when it next runs the isolate: each
// call waits for its answer, sending a request to --url now and then. In the
// first seconds after wrangler dev starts or reloads the Worker none was
// answered (wrangler's own inspector connection holds the isolate then); 20 s
// later they were.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";

const { values: options } = parseArgs({
  options: {
    url: { type: "string", default: "http://127.0.0.1:8787" },
    inspector: { type: "string" },
    target: { type: "string", default: "core:user:edgewhisk" },
    seconds: { type: "string", default: "8" },
    out: { type: "string", default: "edgewhisk.cpuprofile" },
    top: { type: "string", default: "40" },
  },
});
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The port of the workerd inspector that lists the target (workerd picks it at random; `ss` shows workerd's listeners). */
async function findInspector() {
  const listeners = execFileSync("ss", ["-ltnpH"], { encoding: "utf8" })
    .split("\n")
    .filter((line) => line.includes('"workerd"'))
    .map((line) => line.match(/127\.0\.0\.1:(\d+)/)?.[1])
    .filter(Boolean);
  for (const port of listeners) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/json`, { signal: AbortSignal.timeout(1_000) });
      if ((await res.text()).includes(`"${options.target}"`)) return port;
    } catch {}
  }
  throw new Error(`no workerd inspector lists ${options.target}: is wrangler dev running (with --inspector-port)?`);
}

const port = options.inspector ?? (await findInspector());
const ws = new WebSocket(`ws://127.0.0.1:${port}/${options.target}`);
await new Promise((resolve, reject) => {
  ws.onopen = resolve;
  ws.onerror = reject;
});
let lastId = 0;
const answers = new Map();
ws.onmessage = (event) => {
  const message = JSON.parse(event.data);
  // workerd answers some Profiler calls with an echo of the call (no `result`): any message with the id will do.
  if (message.id !== undefined) answers.get(message.id)?.(message);
};
/** Sends `method` and waits for its answer, poking the isolate with a request now and then. */
async function call(method, pokes = 20) {
  const id = ++lastId;
  const answered = new Promise((resolve) => answers.set(id, resolve));
  ws.send(JSON.stringify({ id, method, params: {} }));
  for (let poke = 0; poke < pokes; poke++) {
    const answer = await Promise.race([answered, sleep(500).then(() => undefined)]);
    if (answer) return answer;
    await fetch(`${options.url}/api/v1`).then((res) => res.text()).catch(() => undefined);
  }
  throw new Error(`workerd did not answer ${method}: wrangler's own inspector session may hold the isolate (try again in 20 s)`);
}

await call("Runtime.enable");
await call("Profiler.enable");
await call("Profiler.start");
console.error(`profiling ${options.target} (inspector port ${port}) for ${options.seconds} s`);
await sleep(Number(options.seconds) * 1000);
const { result } = await call("Profiler.stop");
ws.close();
writeFileSync(options.out, JSON.stringify(result.profile));
console.error(`written ${options.out}`);
printTop(result.profile, Number(options.top));

function printTop(profile, count) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const name = (node) => `${node.callFrame.functionName || "(anonymous)"} ${node.callFrame.url.split("/").pop()}:${node.callFrame.lineNumber + 1}`;
  const self = new Map();
  const inclusive = new Map();
  let total = 0;
  profile.samples.forEach((id, at) => {
    const micros = profile.timeDeltas[at + 1] ?? 0;
    total += micros;
    const node = byId.get(id);
    self.set(name(node), (self.get(name(node)) ?? 0) + micros);
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const key = name(byId.get(cur));
      if (!seen.has(key)) inclusive.set(key, (inclusive.get(key) ?? 0) + micros);
      seen.add(key);
    }
  });
  const show = (title, table) => {
    console.log(`\n${title} (of ${(total / 1000).toFixed(0)} ms sampled)`);
    for (const [key, micros] of [...table].sort((a, b) => b[1] - a[1]).slice(0, count)) {
      console.log(`${(micros / 1000).toFixed(1).padStart(9)} ms ${((100 * micros) / total).toFixed(1).padStart(5)} %  ${key}`);
    }
  };
  show("self time", self);
  show("inclusive time", inclusive);
}
