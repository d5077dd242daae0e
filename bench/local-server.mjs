// What the hand-run benchmarks share: `npm start` on free ports with a state
// directory of its own, and wskadmin against that state.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ROOT = new URL("..", import.meta.url).pathname;

/** The development guest key both local hosts seed (.dev.vars), and its Authorization header. */
export const GUEST_AUTH = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP";
export const AUTH = `Basic ${Buffer.from(GUEST_AUTH).toString("base64")}`;

/** A JSON call to the API as guest: its status and parsed body (undefined when empty). */
export async function api(base, method, path, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: AUTH, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/**
 * Sends `count` non-blocking invokes (POST, no `blocking`) over `paths` in
 * turn with at most `inFlight` outstanding, through autocannon: the same
 * load tool as the blocking rounds, so the client is not what bounds the
 * accepts (one `fetch` after another on 20 senders in the bench's own
 * process took ~200 a second where autocannon got 400 accepted). Answers
 * the accepted activation ids once the last answer is in; throws on any
 * answer but a 202. Not when autocannon reports: it ends a run only at its
 * next one-second sample, so 500 invokes seemed to take a whole second at
 * least (and every run under a second, ~490 a second).
 */
export async function sendNonBlocking(url, paths, { count, inFlight }) {
  const { default: autocannon } = await import("autocannon");
  const ids = [];
  let refused;
  let answered = 0;
  let allAnswered;
  const lastAnswer = new Promise((resolve) => (allAnswered = resolve));
  const requests = paths.map((path) => ({
    method: "POST",
    path,
    headers: { authorization: AUTH, "content-type": "application/json" },
    body: "{}",
    onResponse: (status, body) => {
      if (status !== 202) refused ??= `non-blocking invoke answered ${status} ${body}`;
      else ids.push(JSON.parse(body).activationId);
      if (++answered === count) allAnswered();
    },
  }));
  const run = new Promise((resolve, reject) =>
    autocannon({ url, connections: inFlight, amount: count, requests }, (err, res) => (err ? reject(err) : resolve(res))),
  );
  // A run that fails, or ends with answers missing, ends the wait too.
  await Promise.race([lastAnswer, run]);
  if (refused) throw new Error(refused);
  if (ids.length !== count) {
    const result = await run;
    throw new Error(`${ids.length} of ${count} non-blocking invokes accepted, ${result.errors} errors`);
  }
  // Its last sample still to come, autocannon is left to end by itself.
  run.catch(() => undefined);
  return ids;
}

export const percentile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
/** The middle value; of an even count, the mean of the two middle ones (of two rounds, not the faster one). */
export const median = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

export const freePort = () =>
  new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

export async function waitFor(url) {
  for (let i = 0; i < 480; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no answer from ${url}`);
}

/** Runs `wskadmin ...args` (with `env` added); throws when it fails. */
function runWskadmin(args, env = {}) {
  const done = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "scripts/wskadmin.ts"), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "inherit"],
  });
  if (done.status !== 0) throw new Error(`wskadmin ${args.join(" ")} failed`);
}

/** `npm start` in its own process group and state; `stop()` kills the group and removes the state. */
export async function startLocalServer(prefix) {
  const state = mkdtempSync(join(tmpdir(), prefix));
  const [port, inspector] = await Promise.all([freePort(), freePort()]);
  const child = spawn("npm", ["start", "--", "--inspector-port", String(inspector), "--show-interactive-dev-session=false"], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), EDGEWHISK_STATE: state, WRANGLER_SEND_METRICS: "false" },
    detached: true,
    stdio: "ignore",
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = () => {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
    rmSync(state, { recursive: true, force: true });
  };
  try {
    await waitFor(`${url}/api/v1`);
  } catch (err) {
    stop();
    throw err;
  }
  const wskadmin = (...args) => runWskadmin(args, { EDGEWHISK_STATE: state });
  return { url, pgid: child.pid, state, wskadmin, stop };
}

/**
 * A database and a NATS stream name of their own for one Node-host run,
 * from DATABASE_URL and NATS_URL (or what .ci/services.sh prints); `drop()`
 * removes the database, the stream and the invokers' heartbeat bucket.
 */
async function nodeServices(prefix) {
  const adminUrl = process.env.DATABASE_URL ?? process.env.EDGEWHISK_TEST_DATABASE_URL;
  const natsUrl = process.env.NATS_URL ?? process.env.EDGEWHISK_TEST_NATS_URL;
  if (!adminUrl || !natsUrl) throw new Error("the Node host needs DATABASE_URL and NATS_URL (eval \"$(bash .ci/services.sh)\")");
  const { default: pg } = await import("pg");
  const suffix = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const database = `${prefix}_${suffix}`;
  const stream = `${prefix.toUpperCase()}_${suffix.toUpperCase()}`;
  const admin = async (sql) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${database}`);
  const databaseUrl = new URL(adminUrl);
  databaseUrl.pathname = `/${database}`;
  const drop = async () => {
    await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
    try {
      const { connect } = await import("@nats-io/transport-node");
      const { jetstreamManager } = await import("@nats-io/jetstream");
      const nc = await connect({ servers: natsUrl });
      const jsm = await jetstreamManager(nc);
      // The bucket's name is src/node/membership.ts's membershipBucket(stream).
      for (const name of [stream, `KV_${stream}-invokers`]) await jsm.streams.delete(name).catch(() => undefined);
      await nc.close();
    } catch {}
  };
  return { databaseUrl: String(databaseUrl), natsUrl, stream, drop };
}

/**
 * `npm run start:node` in its own process group, on a database and NATS
 * stream of its own (nodeServices); `stop()` kills the group and drops both.
 */
export async function startNodeServer(prefix) {
  const services = await nodeServices(prefix);
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", "src/node/local.ts"], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), DATABASE_URL: services.databaseUrl, NATS_URL: services.natsUrl, NATS_STREAM: services.stream },
    detached: true,
    stdio: "ignore",
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
    await new Promise((r) => setTimeout(r, 500));
    await services.drop();
  };
  try {
    await waitFor(`${url}/api/v1`);
  } catch (err) {
    await stop();
    throw err;
  }
  const wskadmin = (...args) => runWskadmin([...args, "--database-url", services.databaseUrl]);
  return { url, pgid: child.pid, wskadmin, stop };
}

/**
 * The Node host as separate processes, as the Kubernetes manifests run it
 * (test/node/cluster.ts does the same for the tests): `controllers`
 * controllers and `invokers` invokers, each in its own process group, on a
 * database and NATS stream of their own (nodeServices), on loopback.
 * `stop()` kills every group and drops them.
 */
export async function startNodeCluster(prefix, { controllers = 1, invokers = 1, invokerEnv = {}, controllerEnv = {} } = {}) {
  const { randomBytes } = await import("node:crypto");
  const services = await nodeServices(prefix);
  const databaseUrl = services.databaseUrl;

  const controllerPorts = await Promise.all(Array.from({ length: controllers }, freePort));
  const invokerPorts = await Promise.all(Array.from({ length: invokers }, freePort));
  const common = { DATABASE_URL: databaseUrl, NATS_URL: services.natsUrl, NATS_STREAM: services.stream, INVOKER_SECRET: randomBytes(32).toString("hex") };
  const processes = [
    ...controllerPorts.map((port) => ({ role: "controller", port, env: { ...common, GUEST_AUTH, ...controllerEnv } })),
    ...invokerPorts.map((port, n) => ({
      role: "invoker",
      port,
      env: {
        ...common,
        LISTEN_HOST: "127.0.0.1",
        CONTROLLER_URL: `http://127.0.0.1:${controllerPorts[0]}`,
        INVOKER_ID: `invoker-${n}`,
        INVOKER_ADVERTISE_URL: `http://127.0.0.1:${port}`,
        ...invokerEnv,
      },
    })),
  ].map(({ role, port, env }) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/node/main.ts", role], {
      cwd: ROOT,
      env: { ...process.env, ...env, PORT: String(port) },
      detached: true,
      stdio: "ignore",
    });
    return { role, url: `http://127.0.0.1:${port}`, pgid: child.pid };
  });

  const stop = async () => {
    for (const { pgid } of processes) {
      try {
        process.kill(-pgid, "SIGKILL");
      } catch {}
    }
    await new Promise((r) => setTimeout(r, 500));
    await services.drop();
  };
  try {
    // Controllers and invokers at once, as the tests start them (the controllers apply the migrations).
    await Promise.all(processes.map(({ url }) => waitFor(`${url}/healthz`)));
  } catch (err) {
    await stop();
    throw err;
  }
  const wskadmin = (...args) => runWskadmin([...args, "--database-url", databaseUrl]);
  return {
    url: processes[0].url,
    controllers: processes.filter((p) => p.role === "controller"),
    invokers: processes.filter((p) => p.role === "invoker"),
    databaseUrl,
    wskadmin,
    stop,
  };
}

/**
 * CPU seconds used so far by the processes of group `pgid` (Linux /proc; 0
 * elsewhere). The bench machine is shared, so throughput swings with what
 * else runs; CPU per activation does not, and tells the two paths apart.
 */
export function groupCpuSeconds(pgid) {
  let ticks = 0;
  let entries = [];
  try {
    entries = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return 0;
  }
  for (const pid of entries) {
    try {
      // Fields after the command (which may hold spaces) start at state: pgrp is the 3rd, utime/stime/cutime/cstime the 12th–15th.
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ").at(-1).split(" ");
      if (Number(fields[2]) !== pgid) continue;
      ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    } catch {}
  }
  return ticks / 100; // USER_HZ is 100 on Linux
}
