#!/usr/bin/env node
// Trigger fires at a steady rate, on either host: a trigger with one rule to
// a hello action is fired `rate` times a second for `seconds` seconds (open
// loop: a fire is sent on schedule whatever the earlier ones are doing, at
// most `maxInFlight` outstanding). Then it waits until every accepted fire
// has its trigger record and its rule activation's record, and reports the
// fires carried out per second (first fire to last record) and the lag from
// sending a fire to its rule activation's start and end (the end is when its
// record is written; both clocks are this machine's), and the CPU time the
// host's own processes spent per fire (what to compare on a shared machine).
//
//   node bench/fires.mjs [--host cloudflare|node] [--rate 100] [--seconds 30] [--max-in-flight 200]
//
// --host cloudflare (default) starts `npm start`; --host node starts the Node
// host as one controller and one invoker (as bench/node-cluster.mjs does; it
// needs DATABASE_URL/NATS_URL or the EDGEWHISK_TEST_* variables). Prints one
// Markdown table row for docs/benchmarks.md; exits 1 if an accepted fire
// is missing a record.
import { parseArgs } from "node:util";
import { api, percentile, startLocalServer, startNodeCluster } from "./local-server.mjs";
import { groupCpuSeconds } from "./local-server.mjs";
import { apiRetrying, prepare } from "./nonblocking.mjs";

const TRIGGER = "bench-tick";
const ACTION = "hello";

/** Lists every activation of `name` (docs), newest first, `count` at most. */
async function listAll(url, name, count) {
  const records = [];
  for (let skip = 0; skip < count; skip += 200) {
    const res = await apiRetrying(url, "GET", `/api/v1/namespaces/_/activations?docs=true&name=${name}&limit=200&skip=${skip}`);
    if (res.status !== 200) throw new Error(`list answered ${res.status}`);
    records.push(...res.body);
    if (res.body.length < 200) break;
  }
  return records;
}

async function countOf(url, name) {
  const res = await apiRetrying(url, "GET", `/api/v1/namespaces/_/activations?count=true&name=${name}`);
  if (res.status !== 200) throw new Error(`count answered ${res.status}`);
  return res.body.activations;
}

/** CPU seconds used so far by the process groups `pgids` (the host's own processes; PostgreSQL and NATS are not counted). */
const cpuSeconds = (pgids) => pgids.reduce((sum, pgid) => sum + groupCpuSeconds(pgid), 0);

export async function measureFires(url, { rate = 100, seconds = 30, maxInFlight = 200, timeoutMs = 180_000, pgids = [] } = {}) {
  const before = { rule: await countOf(url, ACTION), trigger: await countOf(url, TRIGGER) };
  const cpuBefore = cpuSeconds(pgids);
  const total = rate * seconds;
  const sentAt = new Map();
  let inFlight = 0;
  let refused = 0;
  let skipped = 0;
  const pending = [];
  const started = performance.now();
  const epochAtStart = Date.now();
  for (let n = 0; n < total; n++) {
    const due = started + (n * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (inFlight >= maxInFlight) {
      skipped++;
      continue;
    }
    inFlight++;
    const at = epochAtStart + (performance.now() - started);
    pending.push(
      api(url, "POST", `/api/v1/namespaces/_/triggers/${TRIGGER}`, { n })
        .then((res) => {
          if (res.status === 202) sentAt.set(res.body.activationId, at);
          else refused++;
        })
        .catch(() => refused++)
        .finally(() => inFlight--),
    );
  }
  await Promise.all(pending);
  const sendSeconds = (performance.now() - started) / 1000;
  const accepted = sentAt.size;
  let counts = { rule: 0, trigger: 0 };
  while (performance.now() - started < timeoutMs) {
    counts = { rule: (await countOf(url, ACTION)) - before.rule, trigger: (await countOf(url, TRIGGER)) - before.trigger };
    if (counts.rule >= accepted && counts.trigger >= accepted) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const doneSeconds = (performance.now() - started) / 1000;
  const cpuMsPerFire = ((cpuSeconds(pgids) - cpuBefore) * 1000) / Math.max(1, accepted);
  const recorded = (await listAll(url, ACTION, accepted + 200)).filter((record) => sentAt.has(record.cause));
  const triggers = (await listAll(url, TRIGGER, accepted + 200)).filter((record) => sentAt.has(record.activationId));
  const lags = { start: [], end: [] };
  for (const record of recorded) {
    lags.start.push(record.start - sentAt.get(record.cause));
    lags.end.push(record.end - sentAt.get(record.cause));
  }
  return {
    total,
    accepted,
    refused,
    skipped,
    recorded: recorded.length,
    triggersRecorded: triggers.length,
    sendSeconds,
    carriedPerSecond: recorded.length / doneSeconds,
    cpuMsPerFire,
    lags,
  };
}

async function startHost(host) {
  if (host === "node") {
    const cluster = await startNodeCluster("edgewhisk_bench_fires");
    const pgids = [...cluster.controllers, ...cluster.invokers].map((p) => p.pgid);
    return { url: cluster.url, wskadmin: cluster.wskadmin, pgids, stop: () => cluster.stop(), label: "Node host (one controller, one invoker)" };
  }
  const server = await startLocalServer("edgewhisk-fires-");
  return { url: server.url, wskadmin: server.wskadmin, pgids: [server.pgid], stop: async () => server.stop(), label: "Cloudflare host (`npm start`)" };
}

export const TABLE_HEAD = [
  "| host | fires sent at | accepted | refused | not sent (in flight) | trigger records | rule activations recorded | carried out per second | CPU ms per fire | lag to rule start p50 / p99 ms | lag to its record p50 / p99 ms |",
  "|---|---|---|---|---|---|---|---|---|---|---|",
];

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      host: { type: "string", default: "cloudflare" },
      rate: { type: "string", default: "100" },
      seconds: { type: "string", default: "30" },
      "max-in-flight": { type: "string", default: "200" },
      "no-head": { type: "boolean", default: false },
    },
  });
  if (values.host !== "cloudflare" && values.host !== "node") throw new Error(`--host cloudflare or node, not ${values.host}`);
  const server = await startHost(values.host);
  const stopOnSignal = () => void server.stop().then(() => process.exit(130));
  process.once("SIGINT", stopOnSignal);
  try {
    await prepare(server);
    server.wskadmin("limits", "set", "guest", "--firesPerMinute", "1000000000");
    const trigger = await apiRetrying(server.url, "PUT", `/api/v1/namespaces/_/triggers/${TRIGGER}?overwrite=true`, {});
    const rule = await apiRetrying(server.url, "PUT", "/api/v1/namespaces/_/rules/bench-rule?overwrite=true", { trigger: `/_/${TRIGGER}`, action: `/_/${ACTION}` });
    if (trigger.status !== 200 || rule.status !== 200) throw new Error(`trigger ${trigger.status}, rule ${rule.status}`);
    // Warm the action (its first isolate) and the path (a few fires) before the steady load.
    await apiRetrying(server.url, "POST", `/api/v1/namespaces/_/actions/${ACTION}?blocking=true`, {});
    await measureFires(server.url, { rate: 20, seconds: 1 });
    const r = await measureFires(server.url, {
      rate: Number(values.rate),
      seconds: Number(values.seconds),
      maxInFlight: Number(values["max-in-flight"]),
      pgids: server.pgids,
    });
    const ms = (xs) => `${percentile(xs, 0.5).toFixed(0)} / ${percentile(xs, 0.99).toFixed(0)}`;
    if (!values["no-head"]) {
      console.log(`Command: \`node bench/fires.mjs --host ${values.host} --rate ${values.rate} --seconds ${values.seconds} --max-in-flight ${values["max-in-flight"]}\``);
      console.log();
      console.log(TABLE_HEAD.join("\n"));
    }
    console.log(
      `| ${server.label} | ${values.rate}/s for ${values.seconds} s | ${r.accepted} of ${r.total} | ${r.refused} | ${r.skipped} | ${r.triggersRecorded} | ${r.recorded} | ` +
        `${r.carriedPerSecond.toFixed(0)} | ${r.cpuMsPerFire.toFixed(1)} | ${ms(r.lags.start)} | ${ms(r.lags.end)} |`,
    );
    if (r.recorded < r.accepted || r.triggersRecorded < r.accepted) {
      console.error(`only ${r.recorded} rule activations and ${r.triggersRecorded} trigger records for ${r.accepted} accepted fires`);
      process.exitCode = 1;
    }
  } finally {
    process.off("SIGINT", stopOnSignal);
    await server.stop();
  }
}
