// The controller process of the Kubernetes host: the same Hono app as the
// Cloudflare Worker, wired to PostgreSQL, NATS JetStream and the invoker
// pods it learns of from their heartbeats (membership.ts). Background work
// runs beside the server as tasks sharing its services: the fire consumer,
// the adoption of gone invokers' queues, the alarm scheduler, the retention
// cleanup.
import type { ServerType } from "@hono/node-server";
import type { NatsConnection } from "@nats-io/transport-node";
import type pg from "pg";
import { Drain } from "../core/drain.js";
import { observedConcurrency, observedThrottle } from "../core/metrics.js";
import { recordLostActivation } from "../activation/failures.js";
import { createApp } from "../api/app.js";
import { ResolutionCache } from "../core/resolve.js";
import { TriggerCache } from "../core/trigger-cache.js";
import type { Platform } from "../ports/platform.js";
import { purgeExpiredActivations } from "../store/retention.js";
import { seedPlatform } from "../store/seed.js";
import { SqlStore } from "../store/sql-store.js";
import { alarmScheduler } from "./alarm-scheduler.js";
import { PostgresAlarms } from "./postgres-alarms.js";
import type { ControllerConfig } from "./config.js";
import { adoptOrphanedQueues } from "./adoption.js";
import { HttpInvokers } from "./invoker-http-client.js";
import { controllerWork, MembershipDispatcher } from "./invoker-queue.js";
import { ensureMembershipBucket, membershipBucket, MembershipView } from "./membership.js";
import { NodeMetrics } from "./metrics.js";
import { applyMigrations } from "./migrate.js";
import { connectNats } from "./nats-connection.js";
import { diskAssets } from "./console-assets.js";
import { activationStream, consumeActivations, DEFAULT_DELIVERY, ensureActivationStream } from "./nats.js";
import { opsEndpoints } from "./ops.js";
import { joinPlaceReturns, natsPlaceReturns } from "./place-returns.js";
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
  /** The invokers, from their heartbeats. */
  membership: MembershipView;
  platform: Platform;
}

export interface RunningTask {
  stop(): Promise<void>;
}

/** Work that runs beside the API for the controller's lifetime. */
export type BackgroundTask = (services: ControllerServices) => Promise<RunningTask>;

export interface RunningController {
  port: number;
  /** Where /readyz and /metrics are served. */
  opsPort: number;
  services: ControllerServices;
  stop(): Promise<void>;
}

/** Carries out trigger fires from JetStream, and places activations accepted while no invoker was live. */
export const activationConsumer: BackgroundTask = ({ config, nats, membership, platform, metrics }) => {
  const target = activationStream(config.stream);
  const work = controllerWork(nats, target, membership, {
    store: platform.store,
    invokers: platform.invokers,
    dispatcher: platform.dispatcher,
    throttle: platform.throttle,
    concurrency: platform.concurrency,
  });
  return consumeActivations(nats, target, work, { ...DEFAULT_DELIVERY, concurrency: config.concurrency }, metrics);
};

/** Hands the work queued for invokers that are gone to live ones. */
export const invokerAdoption: BackgroundTask = async ({ config, nats, membership }) =>
  adoptOrphanedQueues(nats, activationStream(config.stream), membership, DEFAULT_DELIVERY);

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

export const DEFAULT_TASKS: readonly BackgroundTask[] = [activationConsumer, invokerAdoption, alarmScheduler, activationRetention];

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

export { natsConnectionOptions } from "./nats-connection.js";

export async function startController(
  config: ControllerConfig,
  tasks: readonly BackgroundTask[] = DEFAULT_TASKS,
): Promise<RunningController> {
  const pool = createPool(config.databaseUrl);
  await applyMigrations(pool);
  const store = new SqlStore(new PostgresSql(pool));
  await seedPlatform(store, config);
  const nats = await connectNats(config.natsUrl, "edgewhisk-controller");
  const stream = activationStream(config.stream);
  await ensureActivationStream(nats, stream);
  const metrics = new NodeMetrics();
  metrics.watchQueue(queueDepth(nats, stream.stream));
  const bucket = membershipBucket(config.stream);
  await ensureMembershipBucket(nats, bucket);
  const membership = await MembershipView.watch(nats, bucket);

  const deferred = new Set<Promise<unknown>>();
  const alarms = new PostgresAlarms(pool);
  const limiter = postgresConcurrency(pool, store, natsPlaceReturns(nats, stream));
  const returns = joinPlaceReturns(nats, stream, limiter);
  const concurrency = observedConcurrency(limiter, metrics);
  const platform: Platform = {
    store,
    dispatcher: new MembershipDispatcher(nats, stream, membership),
    invokers: new HttpInvokers(membership, config.invokerSecret, (request) => recordLostActivation({ store, concurrency }, request)),
    alarms,
    throttle: observedThrottle(postgresThrottle(pool, store), metrics),
    concurrency,
    resolutions: new ResolutionCache(),
    triggers: new TriggerCache(),
    ...(config.apiHost ? { apiHost: config.apiHost } : {}),
    defer(work) {
      const tracked = work.catch((err) => console.error("deferred work failed:", err)).finally(() => deferred.delete(tracked));
      deferred.add(tracked);
    },
  };
  const services: ControllerServices = { config, pool, alarms, nats, membership, platform, metrics };
  const assets = diskAssets();
  const app = createApp(
    () => platform,
    () => assets,
  );
  const running = await Promise.all(tasks.map((task) => task(services)));

  const drain = new Drain();
  const ops = opsEndpoints({ drain, metrics, ready: () => healthy(services) });
  const liveness = async () => ((await healthy(services)) ? new Response("ok") : new Response("unavailable", { status: 503 }));
  // The API's port is the public load balancer's: it answers /healthz (up or
  // not, nothing more) and the API. Readiness with its counts and the metrics,
  // which add up every tenant's activity, have a port of their own that only
  // the kubelet and Prometheus reach (k8s/network-policies.yaml).
  const server: ServerType = await listen(async (request) => {
    if (new URL(request.url).pathname === "/healthz") return liveness();
    // Requests that still arrive while draining are answered too (endpoints take a moment to forget this pod).
    const leave = drain.enter();
    try {
      return await app.fetch(request);
    } finally {
      leave();
    }
  }, config.port, undefined, config.keepAliveTimeoutMs);
  const opsServer: ServerType = await listen(async (request) => {
    if (new URL(request.url).pathname === "/healthz") return liveness();
    return ops(request) ?? new Response("not found", { status: 404 });
  }, config.opsPort);
  drain.serving();
  const port = (server.address() as { port: number }).port;
  const opsPort = (opsServer.address() as { port: number }).port;
  console.log(`edgewhisk controller listening on :${port} (operations on :${opsPort})`);

  return {
    port,
    opsPort,
    services,
    async stop() {
      // Not ready from here on; the consumer stops pulling and finishes what it holds, as requests in flight do.
      const requestsEnded = drain.drain();
      await Promise.all(running.map((task) => task.stop()));
      await requestsEnded;
      await closeServer(server);
      await closeServer(opsServer);
      await Promise.all(deferred);
      await returns.leave();
      membership.stop();
      await nats.drain();
      await pool.end();
    },
  };
}
