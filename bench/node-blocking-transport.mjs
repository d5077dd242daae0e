#!/usr/bin/env node
// How a blocking invoke could reach an invoker and come back, measured bare
// between two processes on loopback: a ~1 KB JSON request answered with a
// ~1 KB JSON record over
//   - node:http with a keep-alive Agent to @hono/node-server, as
//     src/node/invoker-http-client.ts calls invokers today;
//   - fetch (undici, keep-alive) to the same server;
//   - NATS request-reply through the NATS server (NATS_URL), the other way
//     issue 14 asks to compare.
// The server process does the same for both: parse the JSON, answer a record.
// Closed loop of `--concurrency` callers, `--seconds` per transport and
// round, transports taking turns for `--rounds` rounds (medians).
//
//   NATS_URL=nats://... node bench/node-blocking-transport.mjs [--seconds 5] [--rounds 3] [--concurrency 10]
//
// (EDGEWHISK_TEST_NATS_URL is read too.) Prints a Markdown table.
import { spawn } from "node:child_process";
import http from "node:http";
import { cpus } from "node:os";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";

const SUBJECT = "bench.blocking-transport";
const SECRET = "bench-secret-0123456789abcdef";

/** About 1 KB of JSON each way, shaped like an invoke request and its record. */
const PADDING = "x".repeat(700);
const request = (n) => ({
  activationId: `a${n.toString(16).padStart(31, "0")}`,
  identity: { namespace: "guest", subject: "guest", uuid: "23bc46b1-71f6-4ed5-8c54-816aa4f8c502" },
  action: { namespace: "guest", name: "hello" },
  params: { n, text: PADDING },
  blocking: true,
});
const record = (req) => ({
  namespace: req.identity.namespace,
  name: req.action.name,
  activationId: req.activationId,
  start: Date.now(),
  end: Date.now(),
  duration: 0,
  response: { status: "success", statusCode: 0, success: true, result: { n: req.params.n, text: req.params.text } },
  logs: [],
  annotations: [{ key: "path", value: "guest/hello" }, { key: "kind", value: "nodejs:20" }],
});

async function serve(natsUrl) {
  const [{ serve }, { Hono }, { connect }] = await Promise.all([import("@hono/node-server"), import("hono"), import("@nats-io/transport-node")]);
  const app = new Hono().post("/invoke", async (c) => {
    if (c.req.header("authorization") !== `Bearer ${SECRET}`) return c.json({ message: "no" }, 401);
    return c.json({ record: record(await c.req.json()) });
  });
  const nc = await connect({ servers: natsUrl });
  nc.subscribe(SUBJECT, {
    callback: (err, msg) => {
      if (!err) msg.respond(JSON.stringify({ record: record(msg.json()) }));
    },
  });
  await nc.flush();
  const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, ({ port }) => console.log(JSON.stringify({ port })));
  process.on("SIGTERM", () => {
    server.close();
    void nc.close().then(() => process.exit(0));
  });
}

const agent = new http.Agent({ keepAlive: true });

/** As invoker-http-client.ts's postJson does it. */
function postJson(url, body) {
  return new Promise((resolve, reject) => {
    const headers = { "content-type": "application/json", authorization: `Bearer ${SECRET}` };
    const req = http.request(url, { method: "POST", agent, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (text += chunk));
      res.on("error", reject);
      res.on("end", () => resolve(JSON.parse(text)));
    });
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

async function measure(call, seconds, concurrency) {
  const latencies = [];
  const until = performance.now() + seconds * 1000;
  let n = 0;
  const caller = async () => {
    while (performance.now() < until) {
      const i = n++;
      const started = performance.now();
      const answer = await call(request(i));
      latencies.push(performance.now() - started);
      if (answer.record.response.result.n !== i) throw new Error(`answer ${answer.record.response.result.n} to request ${i}`);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, caller));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (p) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))];
  return { rps: latencies.length / elapsed, p50: at(0.5), p99: at(0.99) };
}

async function main() {
  const { values: options } = parseArgs({
    options: {
      seconds: { type: "string", default: "5" },
      rounds: { type: "string", default: "3" },
      concurrency: { type: "string", default: "10" },
    },
  });
  const natsUrl = process.env.NATS_URL ?? process.env.EDGEWHISK_TEST_NATS_URL;
  if (!natsUrl) throw new Error("set NATS_URL (or EDGEWHISK_TEST_NATS_URL)");
  const seconds = Number(options.seconds);
  const rounds = Number(options.rounds);
  const concurrency = Number(options.concurrency);

  const child = spawn(process.execPath, [new URL(import.meta.url).pathname, "--serve"], {
    env: { ...process.env, NATS_URL: natsUrl },
    detached: true,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const stop = () => {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
  };
  process.once("SIGINT", () => (stop(), process.exit(130)));
  try {
    const line = await new Promise((resolve, reject) => {
      createInterface({ input: child.stdout }).once("line", resolve);
      child.once("exit", (code) => reject(new Error(`the server exited (${code})`)));
    });
    const url = `http://127.0.0.1:${JSON.parse(line).port}/invoke`;
    const { connect } = await import("@nats-io/transport-node");
    const nc = await connect({ servers: natsUrl });
    const transports = {
      "node:http keep-alive Agent → @hono/node-server (today's path)": (body) => postJson(url, body),
      "fetch (undici keep-alive) → @hono/node-server": async (body) => {
        const res = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${SECRET}` },
          body: JSON.stringify(body),
        });
        return res.json();
      },
      "NATS request-reply through the local NATS server": async (body) =>
        (await nc.request(SUBJECT, JSON.stringify(body), { timeout: 5_000 })).json(),
    };
    for (const call of Object.values(transports)) await measure(call, 1, concurrency);
    const runs = Object.fromEntries(Object.keys(transports).map((name) => [name, []]));
    for (let round = 0; round < rounds; round++) {
      for (const [name, call] of Object.entries(transports)) runs[name].push(await measure(call, seconds, concurrency));
      console.error(`round ${round + 1}: ${Object.values(runs).map((r) => r.at(-1).rps.toFixed(0)).join(" / ")} req/s`);
    }
    await nc.close();
    agent.destroy();

    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log(`Command: \`node bench/node-blocking-transport.mjs --seconds ${seconds} --rounds ${rounds} --concurrency ${concurrency}\``);
    console.log();
    console.log(`${concurrency} callers in a closed loop, ${seconds} s per transport and round, ${rounds} rounds in turn (medians); ${cpus().length} cores.`);
    console.log();
    console.log("| transport | req/s | p50 ms | p99 ms |");
    console.log("|---|---|---|---|");
    for (const [name, results] of Object.entries(runs)) {
      const m = (key) => median(results.map((r) => r[key]));
      console.log(`| ${name} | ${m("rps").toFixed(0)} | ${m("p50").toFixed(2)} | ${m("p99").toFixed(2)} |`);
    }
  } finally {
    stop();
  }
}

if (process.argv.includes("--serve")) await serve(process.env.NATS_URL);
else await main();
