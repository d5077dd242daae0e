#!/usr/bin/env node
// Measures containment on `npm start`, as a hostile or careless tenant would
// try it: an echo's latency at rest and while another tenant's action spins
// past its time limit, how long the spinner takes to end, a memory bomb with a
// 128 MB limit next to another tenant's activation, a zip bomb at create time,
// a million-line log, and (with --long) a 30 s blocking call through the
// preinstalled openwhisk client. Bounded: about a minute, a few hundred MB.
//
//   npm run bench:containment [-- --long]
//
// Prints a Markdown section for docs/benchmarks.md.
import { parseArgs } from "node:util";
import { strToU8, zipSync } from "fflate";
import { GUEST_AUTH, percentile, startLocalServer } from "./local-server.mjs";

const { values: options } = parseArgs({ options: { long: { type: "boolean", default: false } } });
const OTHER = "5a1b2c3d-0000-4000-8000-000000000002:otherKey0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU";

const delay = (ms) => new Promise((r) => setTimeout(r, ms));

function client(base, key) {
  const authorization = `Basic ${Buffer.from(key).toString("base64")}`;
  return async (method, path, body) => {
    const res = await fetch(`${base}/api/v1/namespaces/_${path}`, {
      method,
      headers: { authorization, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
}

async function create(call, name, code, extra = {}) {
  const res = await call("PUT", `/actions/${name}?overwrite=true`, { exec: { kind: "nodejs:default", code }, ...extra });
  if (res.status !== 200) throw new Error(`create ${name}: ${res.status} ${JSON.stringify(res.body)}`);
}

async function timed(work) {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

const server = await startLocalServer("edgewhisk-containment-");
const base = server.url;
const rows = [];
try {
  server.wskadmin("user", "create", "other", "--auth", OTHER);
  // The loops here are far above the default 120 invokes a minute a namespace gets.
  for (const namespace of ["guest", "other"]) server.wskadmin("limits", "set", namespace, "--invocationsPerMinute", "1000000");
  const guest = client(base, GUEST_AUTH);
  const other = client(base, OTHER);

  await create(other, "echo", "function main(p) { return { i: p.i } }");
  const echo = async (i) => (await timed(() => other("POST", "/actions/echo?blocking=true&result=true", { i }))).ms;
  await echo(-1);
  const rest = [];
  for (let i = 0; i < 100; i++) rest.push(await echo(i));
  rows.push(["echo at rest (100 sequential)", `p50 ${percentile(rest, 0.5).toFixed(1)} ms, p99 ${percentile(rest, 0.99).toFixed(1)} ms`]);

  await create(guest, "spin", "function main() { while (true) {} }", { limits: { timeout: 1_000 } });
  const spinStarted = performance.now();
  const spin = guest("POST", "/actions/spin?blocking=true");
  const during = [];
  let answeredApi = 0;
  while (performance.now() - spinStarted < 2_500) {
    during.push(await echo(during.length));
    if ((await fetch(`${base}/api/v1`)).ok) answeredApi++;
  }
  const spun = await spin;
  rows.push([
    "echo of another tenant while an action spins (1 s limit)",
    `${during.length} calls: p50 ${percentile(during, 0.5).toFixed(1)} ms, p99 ${percentile(during, 0.99).toFixed(1)} ms, max ${Math.max(...during).toFixed(1)} ms; GET /api/v1 answered ${answeredApi}/${during.length}`,
  ]);
  rows.push(["spinner's record", `${spun.body.response?.result?.error} after ${spun.body.duration} ms (limit 1000 ms)`]);

  await create(
    guest,
    "bomb",
    `async function main() { const held = []; for (let i = 0; i < 25; i++) { const b = new Uint8Array(16 << 20); b.fill(1); held.push(b); await new Promise((r) => setTimeout(r, 40)); } return { survived: held.length }; }`,
    { limits: { memory: 128, timeout: 20_000 } },
  );
  await create(other, "sleeper", "function main(p) { return new Promise((r) => setTimeout(() => r({ slept: p.ms }), p.ms)); }");
  const [bomb, sleeper] = await Promise.all([
    timed(() => guest("POST", "/actions/bomb?blocking=true")),
    other("POST", "/actions/sleeper?blocking=true&result=true", { ms: 1_500 }),
  ]);
  rows.push([
    "memory bomb (128 MB limit, allocating up to 400 MB) beside another tenant's 1.5 s activation",
    `${bomb.value.body.response?.result?.error ?? JSON.stringify(bomb.value.body.response?.result)} after ${bomb.ms.toFixed(0)} ms; neighbour ${JSON.stringify(sleeper.body)}`,
  ]);

  const zipBomb = Buffer.from(zipSync({ "index.js": strToU8("exports.main = () => ({})"), "pad.bin": new Uint8Array(256 << 20) }, { level: 9 })).toString("base64");
  const zip = await timed(() => guest("PUT", "/actions/zipbomb", { exec: { kind: "nodejs:default", code: zipBomb } }));
  rows.push([
    `zip bomb at create (${(zipBomb.length / 1024 / 1024).toFixed(1)} MiB of base64 expanding to 256 MiB)`,
    `${zip.value.status} in ${zip.ms.toFixed(0)} ms: ${zip.value.body.error}`,
  ]);

  await create(guest, "logflood", "function main() { for (let i = 0; i < 1_000_000; i++) console.log('x'); return { ok: true }; }");
  const flood = await timed(() => guest("POST", "/actions/logflood?blocking=true"));
  rows.push([
    "a million console.log lines (10 MB log limit)",
    `${flood.value.status} in ${flood.ms.toFixed(0)} ms: ${flood.value.body.logs?.length} lines kept, result ${JSON.stringify(flood.value.body.response?.result)}`,
  ]);

  if (options.long) {
    await create(guest, "sleep30", "function main() { return new Promise((r) => setTimeout(() => r({ slept: 30000 }), 30000)); }", { limits: { timeout: 60_000 } });
    await create(
      guest,
      "caller",
      "const openwhisk = require('openwhisk'); async function main() { return openwhisk().actions.invoke({ name: 'sleep30', blocking: true, result: true }); }",
      { limits: { timeout: 60_000 }, annotations: [{ key: "provide-api-key", value: true }] },
    );
    const long = await timed(() => guest("POST", "/actions/caller?blocking=true"));
    rows.push(["30 s blocking call through the preinstalled client", `${JSON.stringify(long.value.body.response?.result)} in ${long.ms.toFixed(0)} ms; ${long.value.body.logs?.length} log lines`]);
  }

  console.log(`## ${new Date().toISOString().slice(0, 10)} — containment on npm start\n`);
  console.log("Command: `npm run bench:containment" + (options.long ? " -- --long" : "") + "`\n");
  console.log("| what | measured |\n|---|---|");
  for (const [what, measured] of rows) console.log(`| ${what} | ${measured} |`);
} finally {
  server.stop();
}
