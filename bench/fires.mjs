#!/usr/bin/env node
// Trigger fires at a steady rate on the Cloudflare host (`npm start`): a
// trigger with one rule to a hello action is fired `rate` times a second for
// `seconds` seconds (open loop: a fire is sent on schedule whatever the
// earlier ones are doing, at most `maxInFlight` outstanding). Then it waits
// until every fire's rule activation is recorded and reports the lag from
// sending the fire to the rule activation's start and to its end (both
// clocks are this machine's).
//
//   node bench/fires.mjs [--rate 100] [--seconds 30] [--max-in-flight 200]
import { parseArgs } from "node:util";
import { api, percentile, startLocalServer } from "./local-server.mjs";
import { prepare } from "./nonblocking.mjs";

/** Lists every activation of `name` (docs), newest first, `count` at most. */
async function listAll(url, name, count) {
  const records = [];
  for (let skip = 0; skip < count; skip += 200) {
    const res = await api(url, "GET", `/api/v1/namespaces/_/activations?docs=true&name=${name}&limit=200&skip=${skip}`);
    if (res.status !== 200) throw new Error(`list answered ${res.status}`);
    records.push(...res.body);
    if (res.body.length < 200) break;
  }
  return records;
}

export async function measureFires(url, { rate = 100, seconds = 30, maxInFlight = 200, timeoutMs = 180_000 } = {}) {
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
      api(url, "POST", "/api/v1/namespaces/_/triggers/bench-tick", { n })
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
  let recorded = [];
  while (performance.now() - started < timeoutMs) {
    const res = await api(url, "GET", "/api/v1/namespaces/_/activations?count=true&name=hello");
    if (res.body.activations >= accepted) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  recorded = (await listAll(url, "hello", accepted + 200)).filter((record) => sentAt.has(record.cause));
  const lags = { start: [], end: [] };
  for (const record of recorded) {
    lags.start.push(record.start - sentAt.get(record.cause));
    lags.end.push(record.end - sentAt.get(record.cause));
  }
  return { total, accepted, refused, skipped, recorded: recorded.length, sendSeconds, lags };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      rate: { type: "string", default: "100" },
      seconds: { type: "string", default: "30" },
      "max-in-flight": { type: "string", default: "200" },
    },
  });
  const server = await startLocalServer("edgewhisk-fires-");
  try {
    await prepare(server);
    server.wskadmin("limits", "set", "guest", "--firesPerMinute", "1000000000");
    const trigger = await api(server.url, "PUT", "/api/v1/namespaces/_/triggers/bench-tick", {});
    const rule = await api(server.url, "PUT", "/api/v1/namespaces/_/rules/bench-rule", { trigger: "/_/bench-tick", action: "/_/hello" });
    if (trigger.status !== 200 || rule.status !== 200) throw new Error(`trigger ${trigger.status}, rule ${rule.status}`);
    // Warm the action (its first isolate) before the steady load.
    await api(server.url, "POST", "/api/v1/namespaces/_/actions/hello?blocking=true", {});
    const result = await measureFires(server.url, {
      rate: Number(values.rate),
      seconds: Number(values.seconds),
      maxInFlight: Number(values["max-in-flight"]),
    });
    const ms = (xs, p) => `${percentile(xs, p).toFixed(0)}`;
    console.log(
      `${result.total} fires at ${values.rate}/s over ${result.sendSeconds.toFixed(1)} s: ${result.accepted} accepted, ` +
        `${result.refused} refused, ${result.skipped} not sent (over ${values["max-in-flight"]} in flight); ` +
        `${result.recorded} rule activations recorded. Lag from fire to rule activation start p50 ${ms(result.lags.start, 0.5)} ms, ` +
        `p99 ${ms(result.lags.start, 0.99)} ms; to its end p50 ${ms(result.lags.end, 0.5)} ms, p99 ${ms(result.lags.end, 0.99)} ms.`,
    );
    if (result.recorded < result.accepted) process.exitCode = 1;
  } finally {
    server.stop();
  }
}
