// The invoker process of the Kubernetes host: the host-neutral executor
// running actions in workerd children under the supervisor, fed by its own
// NATS queue (non-blocking activations, invoker-mesh.ts) and a small HTTP
// API (blocking ones, from the controllers). It writes activation records
// itself, as the invoker Durable Object does on Cloudflare.
//
//   POST /invoke      InvokeRequest → {record} | {error} (200), 503 while not serving
//   POST /invoke-web  WebInvokeRequest → WebOutcome | {error} (200), 503 likewise
//                     (both encoded by src/runtime/invoke-outcome.ts)
//   POST /invalidate  {refs}        → 204
//   POST /announce    UpcomingVersion → 204 (a version about to be stored)
//   GET  /healthz     200 {ready, inFlight, restarts, pid, recorded, duplicates} | 503 while no workerd child serves
//   GET  /readyz, /metrics  see ops.ts
//
// A request names the identity it runs as, so every route but these GETs
// requires the INVOKER_SECRET the controllers hold (401 before the body is
// read); nothing else, action code included, can run anything here.
import { lookup } from "node:dns/promises";
import type { ServerType } from "@hono/node-server";
import { Hono, type Context } from "hono";
import { Drain } from "../core/drain.js";
import { observedConcurrency, observedThrottle } from "../core/metrics.js";
import type { EntityRef } from "../core/names.js";
import { recordLostActivation } from "../activation/failures.js";
import { componentRequest } from "../invoker/component-request.js";
import { HOST_CODE_GENERATION } from "../invoker/code-generation.js";
import { ActivationExecutor } from "../invoker/executor.js";
import type { ActivationRecord } from "../core/activation.js";
import type { InvokeRequest, Invokers, UpcomingVersion, WebInvokeRequest } from "../ports/invokers.js";
import { encodeOutcome } from "../runtime/invoke-outcome.js";
import { RecordWrites } from "../store/record-writes.js";
import { SqlStore } from "../store/sql-store.js";
import type { InvokerConfig } from "./config.js";
import { authorizedByInvokerSecret, HttpInvokers } from "./invoker-http-client.js";
import { joinMesh } from "./invoker-mesh.js";
import { connectNats } from "./nats-connection.js";
import { activationStream, dispatchWork } from "./nats.js";
import { createPool, PostgresSql } from "./postgres.js";
import { preinstalled, pythonRunnerSource, runnerSource } from "./runner-source.js";
import { NodeMetrics } from "./metrics.js";
import { opsEndpoints } from "./ops.js";
import { joinPlaceReturns, natsPlaceReturns } from "./place-returns.js";
import { listen, closeServer } from "./serve.js";
import { postgresConcurrency, postgresThrottle } from "./postgres-throttle.js";
import { WorkerdSupervisor } from "./workerd/supervisor.js";

export interface RunningInvoker {
  port: number;
  /** Stops taking activations, finishes those in hand, then stops the children. */
  stop(): Promise<void>;
}

/**
 * The addresses the platform's own components resolve to now, denied to
 * actions even when they are not private: a cluster's Service range may be
 * public address space (GKE's default, 34.118.224.0/20, is). Names that do
 * not resolve yet (an invoker still starting) are passed over; their pods
 * have private addresses in a usual cluster.
 */
async function platformAddresses(hosts: readonly string[]): Promise<string[]> {
  const found = await Promise.all(
    hosts.map((host) => lookup(host.replace(/^\[(.*)\]$/, "$1"), { all: true }).catch(() => [])),
  );
  return [...new Set(found.flat().map(({ address, family }) => `${address}/${family === 4 ? 32 : 128}`))];
}

export async function startInvoker(config: InvokerConfig): Promise<RunningInvoker> {
  const pool = createPool(config.databaseUrl);
  const supervisor = new WorkerdSupervisor({
    memoryLimitMb: config.memoryLimitMb,
    children: config.children,
    egress: {
      controllerUrl: config.controllerUrl,
      allow: config.egressAllow,
      deny: [...config.egressDeny, ...(await platformAddresses(config.platformHosts))],
    },
  });
  await supervisor.start();
  const metrics = new NodeMetrics();
  metrics.watchWorkerd(() => supervisor.status());
  metrics.watchSlots(() => ({ capacity: config.concurrency, free: Math.max(0, config.concurrency - drain.inFlight) }));
  const nats = await connectNats(config.natsUrl, `edgewhisk-invoker-${config.id}`);
  const mesh = await joinMesh(nats, config);
  // Sequence components run at the component's own invoker.
  const invokers = new HttpInvokers(mesh.membership, config.invokerSecret, (request) => recordLostActivation({ store, concurrency }, request));
  const store = new SqlStore(new PostgresSql(pool));
  // A record refused as a duplicate means an activation ran twice (at-least-once delivery at work).
  const records = { recorded: 0, duplicates: 0 };
  const recordWrites = new RecordWrites(store);
  const recordActivation = async (record: ActivationRecord): Promise<boolean> => {
    if (await recordWrites.put(record)) {
      records.recorded++;
      return true;
    }
    records.duplicates++;
    console.warn(`invoker: activation ${record.activationId} was already recorded; this run's record is dropped`);
    return false;
  };
  const throttle = postgresThrottle(pool, store);
  const stream = activationStream(config.stream);
  const concurrency = postgresConcurrency(pool, store, natsPlaceReturns(nats, stream));
  const returns = joinPlaceReturns(nats, stream, concurrency);
  const executor = new ActivationExecutor({
    store,
    recordActivation,
    isolates: supervisor,
    runnerSource,
    pythonRunnerSource,
    codeGeneration: { mode: HOST_CODE_GENERATION.node },
    preinstalled,
    invokeComponent: (call) => invokers.invoke(componentRequest(call)),
    throttle,
    concurrency,
    observer: metrics,
  });

  const drain = new Drain();

  /** Runs one activation for a controller: its outcome, or the OpenWhisk error to answer (503 while draining: the caller spills). */
  async function answer(c: Context, work: () => Promise<object>): Promise<Response> {
    const leave = drain.admit();
    if (!leave) return c.json({ message: "draining" }, 503);
    try {
      return c.json(await encodeOutcome(work));
    } finally {
      leave();
    }
  }

  /** Counts work taken from this invoker's queue, whatever the phase: a drain waits for it. */
  async function counted<T>(work: () => Promise<T>): Promise<T> {
    const leave = drain.enter();
    try {
      return await work();
    } finally {
      leave();
    }
  }

  // Activations from this invoker's queue run here, not at another invoker,
  // and may wait for a busy warm isolate of their action (no client waits).
  const local: Invokers = {
    invoke: (request) => counted(() => executor.execute({ ...request, queued: true })),
    invokeWeb: (request) => counted(() => executor.executeWeb(request)),
    invalidate: async (refs) => executor.invalidate(refs),
    announce: async (upcoming) => executor.announce(upcoming),
  };

  const app = new Hono()
    .use(async (c, next) => {
      if (c.req.method === "GET" && c.req.path === "/healthz") return next();
      if (!authorizedByInvokerSecret(c.req.header("authorization"), config.invokerSecret)) {
        return c.json({ message: "INVOKER_SECRET missing or wrong" }, 401);
      }
      return next();
    })
    .post("/invoke", async (c) => {
      const request = await c.req.json<InvokeRequest>();
      return answer(c, async () => ({ record: await executor.execute(request) }));
    })
    .post("/invoke-web", async (c) => {
      const request = await c.req.json<WebInvokeRequest>();
      return answer(c, () => executor.executeWeb(request));
    })
    .post("/invalidate", async (c) => {
      executor.invalidate((await c.req.json<{ refs: EntityRef[] }>()).refs);
      return c.body(null, 204);
    })
    .post("/announce", async (c) => {
      executor.announce(await c.req.json<UpcomingVersion>());
      return c.body(null, 204);
    })
    // Liveness: a draining invoker is alive and must not be restarted before its work ends.
    .get("/healthz", (c) => {
      const status = supervisor.status();
      return c.json({ ...status, inFlight: drain.inFlight, phase: drain.phase, ...records }, status.ready ? 200 : 503);
    });
  app.onError((err, c) => {
    console.error("invoker: activation failed:", err);
    return c.json({ message: err.message }, 500);
  });

  const ops = opsEndpoints({ drain, metrics, ready: () => supervisor.status().ready });
  const server: ServerType = await listen((request) => ops(request) ?? app.fetch(request), config.port, config.listenHost);
  drain.serving();
  const port = (server.address() as { port: number }).port;
  console.log(`edgewhisk invoker ${config.id} listening on :${port}, announced as ${config.advertiseUrl}`);
  await mesh.start(dispatchWork({ store, invokers: local, dispatcher: mesh.dispatcher, throttle, concurrency }), () => ({ inFlight: drain.inFlight, draining: !drain.ready }));

  return {
    port,
    async stop() {
      // Announced as draining (no new work is routed here) and refusing new calls, then the queue stops and is handed over.
      const drained = drain.drain();
      await mesh.drain();
      await drained;
      await closeServer(server);
      console.log(`edgewhisk invoker ${config.id}: drained; ${records.recorded} activation(s) recorded since start`);
      await mesh.leave();
      await returns.leave();
      await supervisor.stop();
      await nats.drain();
      await pool.end();
    },
  };
}
