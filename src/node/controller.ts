// The controller process of the Kubernetes host: the same Hono app as the
// Cloudflare Worker, wired to PostgreSQL, NATS JetStream and the invoker
// pods it learns of from their heartbeats (membership.ts). Background work
// runs beside the server as tasks sharing its services: the fire consumer,
// the adoption of gone invokers' queues, the alarm scheduler, the retention
// cleanup.
import type { ServerType } from "@hono/node-server";
import type { NatsConnection } from "@nats-io/transport-node";
import type pg from "pg";
import { createApp } from "../api/app.js";
import type { Host } from "../ports.js";
import { purgeExpiredActivations } from "../store/retention.js";
import { seedPlatform } from "../store/seed.js";
import { SqlStore } from "../store/sql-store.js";
import { alarmScheduler } from "./alarm-scheduler.js";
import { PostgresAlarms } from "./alarms.js";
import type { ControllerConfig } from "./config.js";
import { adoptOrphanedQueues } from "./adoption.js";
import { HttpInvokers } from "./invoker-client.js";
import { controllerWork, MembershipDispatcher } from "./invoker-queue.js";
import { ensureMembershipBucket, membershipBucket, MembershipView } from "./membership.js";
import { applyMigrations } from "./migrate.js";
import { connectNats } from "./nats-connection.js";
import { activationStream, consumeActivations, DEFAULT_DELIVERY, ensureActivationStream } from "./nats.js";
import { createPool, PostgresSql } from "./postgres.js";
import { closeServer, listen } from "./serve.js";
import { postgresConcurrency, postgresThrottle } from "./throttle.js";

const CLEANUP_EVERY_MS = 60 * 60_000;

/** What a controller's background tasks share with its API. */
export interface ControllerServices {
  config: ControllerConfig;
  pool: pg.Pool;
  alarms: PostgresAlarms;
  nats: NatsConnection;
  /** The invokers, from their heartbeats. */
  membership: MembershipView;
  host: Host;
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

/** Carries out trigger fires from JetStream, and places activations accepted while no invoker was live. */
export const activationConsumer: BackgroundTask = ({ config, nats, membership, host }) => {
  const target = activationStream(config.stream);
  const work = controllerWork(nats, target, membership, {
    store: host.store,
    invokers: host.invokers,
    dispatcher: host.dispatcher,
    throttle: host.throttle,
    concurrency: host.concurrency,
  });
  return consumeActivations(nats, target, work, { ...DEFAULT_DELIVERY, concurrency: config.concurrency });
};

/** Hands the work queued for invokers that are gone to live ones. */
export const invokerAdoption: BackgroundTask = async ({ config, nats, membership }) =>
  adoptOrphanedQueues(nats, activationStream(config.stream), membership, DEFAULT_DELIVERY);

/** Removes old activations, as the Worker's scheduled handler does (idempotent, so every replica may run it). */
export const activationRetention: BackgroundTask = async ({ config, host }) => {
  const cleanup = () =>
    purgeExpiredActivations(host.store, config.activationRetentionMs).catch((err) => {
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
  const bucket = membershipBucket(config.stream);
  await ensureMembershipBucket(nats, bucket);
  const membership = await MembershipView.watch(nats, bucket);

  const deferred = new Set<Promise<unknown>>();
  const alarms = new PostgresAlarms(pool);
  const host: Host = {
    store,
    dispatcher: new MembershipDispatcher(nats, stream, membership),
    invokers: new HttpInvokers(membership, config.invokerSecret),
    alarms,
    throttle: postgresThrottle(pool, store),
    concurrency: postgresConcurrency(pool, store),
    ...(config.apiHost ? { apiHost: config.apiHost } : {}),
    defer(work) {
      const tracked = work.catch((err) => console.error("deferred work failed:", err)).finally(() => deferred.delete(tracked));
      deferred.add(tracked);
    },
  };
  const services: ControllerServices = { config, pool, alarms, nats, membership, host };
  const app = createApp(() => host);
  const running = await Promise.all(tasks.map((task) => task(services)));

  const server: ServerType = await listen(async (request) => {
    if (new URL(request.url).pathname === "/healthz") {
      return (await healthy(services)) ? new Response("ok") : new Response("unavailable", { status: 503 });
    }
    return app.fetch(request);
  }, config.port);
  const port = (server.address() as { port: number }).port;
  console.log(`edgewhisk controller listening on :${port}`);

  return {
    port,
    services,
    async stop() {
      await closeServer(server);
      await Promise.all(running.map((task) => task.stop()));
      await Promise.all(deferred);
      membership.stop();
      await nats.drain();
      await pool.end();
    },
  };
}
