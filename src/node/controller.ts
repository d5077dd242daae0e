// The controller process of the Kubernetes host: the same Hono app as the
// Cloudflare Worker, wired to PostgreSQL, NATS JetStream and the invoker
// pods. Background work runs beside the server as tasks sharing its
// services: the activation consumer, the alarm scheduler, the retention
// cleanup.
import type { ServerType } from "@hono/node-server";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type pg from "pg";
import { Drain } from "../core/drain.js";
import { observedConcurrency, observedThrottle } from "../core/metrics.js";
import { createApp } from "../api/app.js";
import { ResolutionCache } from "../core/resolve.js";
import type { Platform } from "../ports/platform.js";
import { purgeExpiredActivations } from "../store/retention.js";
import { seedPlatform } from "../store/seed.js";
import { SqlStore } from "../store/sql-store.js";
import { alarmScheduler } from "./alarm-scheduler.js";
import { PostgresAlarms } from "./postgres-alarms.js";
import type { ControllerConfig } from "./config.js";
import { HttpInvokers } from "./invoker-http-client.js";
import { applyMigrations } from "./migrate.js";
import { NodeMetrics } from "./metrics.js";
import { activationStream, consumeActivations, DEFAULT_DELIVERY, ensureActivationStream, NatsDispatcher } from "./nats.js";
import { opsEndpoints } from "./ops.js";
import { createPool, PostgresSql } from "./postgres.js";
import { queueDepth } from "./queue-depth.js";
import { closeServer, listen } from "./serve.js";
import { postgresConcurrency, postgresThrottle } from "./postgres-throttle.js";

const CLEANUP_EVERY_MS = 60 * 60_000;

/** What a controller's background tasks share with its API. */
export interface ControllerServices {
  config: ControllerConfig;
  pool: pg.Pool;
  alarms: PostgresAlarms;
  metrics: NodeMetrics;
  nats: NatsConnection;
  platform: Platform;
}

export interface RunningTask {
  stop(): Promise<void>;
}

/** Work that runs beside the API for the controller's lifetime. */
export type BackgroundTask = (services: ControllerServices) => Promise<RunningTask>;

export interface RunningController {
  port: number;
  services: ControllerServices;
  stop(): Promise<void>;
}

/** Pulls non-blocking activations and trigger fires from JetStream and hands them to invokers. */
export const activationConsumer: BackgroundTask = ({ config, nats, platform, metrics }) =>
  consumeActivations(nats, activationStream(config.stream), {
    store: platform.store,
    invokers: platform.invokers,
    dispatcher: platform.dispatcher,
    throttle: platform.throttle,
    concurrency: platform.concurrency,
  }, DEFAULT_DELIVERY, metrics);

/** Removes old activations, as the Worker's scheduled handler does (idempotent, so every replica may run it). */
export const activationRetention: BackgroundTask = async ({ config, platform }) => {
  const cleanup = () =>
    purgeExpiredActivations(platform.store, config.activationRetentionMs).catch((err) => {
      console.error("activation cleanup failed:", (err as Error).message);
    });
  const timer = setInterval(() => void cleanup(), CLEANUP_EVERY_MS);
  timer.unref();
  return { stop: async () => clearInterval(timer) };
};

export const DEFAULT_TASKS: readonly BackgroundTask[] = [activationConsumer, alarmScheduler, activationRetention];

/** Answers whether PostgreSQL and NATS are reachable (readiness). */
async function healthy(services: ControllerServices): Promise<boolean> {
  if (services.nats.isClosed()) return false;
  try {
    await services.pool.query("SELECT 1");
    return true;
  } catch {
    return false;
  }
}

/**
 * nats.js takes credentials as options, not from the URL: NATS_URL
 * nats://user:password@host:port (or nats://token@host:port) becomes the
 * server and its user and password (or token).
 */
export function natsConnectionOptions(natsUrl: string): { servers: string; user?: string; pass?: string; token?: string } {
  const url = URL.canParse(natsUrl) ? new URL(natsUrl) : undefined;
  if (!url?.username) return { servers: natsUrl };
  const servers = `${url.protocol}//${url.host}`;
  const user = decodeURIComponent(url.username);
  return url.password ? { servers, user, pass: decodeURIComponent(url.password) } : { servers, token: user };
}

export async function startController(
  config: ControllerConfig,
  tasks: readonly BackgroundTask[] = DEFAULT_TASKS,
): Promise<RunningController> {
  const pool = createPool(config.databaseUrl);
  await applyMigrations(pool);
  const store = new SqlStore(new PostgresSql(pool));
  await seedPlatform(store, config);
  const nats = await connect({ ...natsConnectionOptions(config.natsUrl), maxReconnectAttempts: -1, name: "edgewhisk-controller" });
  const stream = activationStream(config.stream);
  await ensureActivationStream(nats, stream);
  const metrics = new NodeMetrics();
  metrics.watchQueue(queueDepth(nats, stream.stream));

  const deferred = new Set<Promise<unknown>>();
  const alarms = new PostgresAlarms(pool);
  const platform: Platform = {
    store,
    dispatcher: new NatsDispatcher(nats, stream),
    invokers: new HttpInvokers(config.invokerUrls, config.invokerSecret),
    alarms,
    throttle: observedThrottle(postgresThrottle(pool, store), metrics),
    concurrency: observedConcurrency(postgresConcurrency(pool, store), metrics),
    resolutions: new ResolutionCache(),
    ...(config.apiHost ? { apiHost: config.apiHost } : {}),
    defer(work) {
      const tracked = work.catch((err) => console.error("deferred work failed:", err)).finally(() => deferred.delete(tracked));
      deferred.add(tracked);
    },
  };
  const services: ControllerServices = { config, pool, alarms, nats, platform, metrics };
  const app = createApp(() => platform);
  const running = await Promise.all(tasks.map((task) => task(services)));

  const drain = new Drain();
  const ops = opsEndpoints({ drain, metrics, ready: () => healthy(services) });
  const server: ServerType = await listen(async (request) => {
    if (new URL(request.url).pathname === "/healthz") {
      return (await healthy(services)) ? new Response("ok") : new Response("unavailable", { status: 503 });
    }
    const answered = ops(request);
    if (answered) return answered;
    // Requests that still arrive while draining are answered too (endpoints take a moment to forget this pod).
    const leave = drain.enter();
    try {
      return await app.fetch(request);
    } finally {
      leave();
    }
  }, config.port);
  drain.serving();
  const port = (server.address() as { port: number }).port;
  console.log(`edgewhisk controller listening on :${port}`);

  return {
    port,
    services,
    async stop() {
      // Not ready from here on; the consumer stops pulling and finishes what it holds, as requests in flight do.
      const requestsEnded = drain.drain();
      await Promise.all(running.map((task) => task.stop()));
      await requestsEnded;
      await closeServer(server);
      await Promise.all(deferred);
      await nats.drain();
      await pool.end();
    },
  };
}
