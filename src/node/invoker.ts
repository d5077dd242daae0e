// The invoker process of the Kubernetes host: the host-neutral executor
// behind a small HTTP API for the controllers, running actions in workerd
// children under the supervisor. It writes activation records itself, as
// the invoker Durable Object does on Cloudflare.
//
//   POST /invoke      InvokeRequest → InvokeOutcome (200), 503 while not serving
//   POST /invalidate  {refs}        → 204
//   GET  /healthz     200 {ready, inFlight, restarts, pid} | 503
import type { ServerType } from "@hono/node-server";
import { Hono } from "hono";
import { WhiskError } from "../core/errors.js";
import type { EntityRef } from "../core/names.js";
import { componentRequest } from "../invoker/component-request.js";
import { ActivationExecutor } from "../invoker/executor.js";
import type { InvokeRequest } from "../ports.js";
import { SqlStore } from "../store/sql-store.js";
import type { InvokerConfig } from "./config.js";
import { HttpInvokers, type InvokeOutcome } from "./invoker-client.js";
import { createPool, PostgresSql } from "./postgres.js";
import { runnerSource } from "./runner-source.js";
import { listen, closeServer } from "./serve.js";
import { WorkerdSupervisor } from "./workerd/supervisor.js";

export interface RunningInvoker {
  port: number;
  /** Stops taking activations, finishes those in hand, then stops the children. */
  stop(): Promise<void>;
}

export async function startInvoker(config: InvokerConfig): Promise<RunningInvoker> {
  const pool = createPool(config.databaseUrl);
  const supervisor = new WorkerdSupervisor({ memoryLimitMb: config.memoryLimitMb });
  await supervisor.start();
  const invokers = new HttpInvokers(config.invokerUrls);
  const executor = new ActivationExecutor({
    store: new SqlStore(new PostgresSql(pool)),
    isolates: supervisor,
    runnerSource,
    invokeComponent: (call) => invokers.invoke(componentRequest(call)),
  });

  let draining = false;
  let inFlight = 0;
  let drained: (() => void) | undefined;

  const app = new Hono()
    .post("/invoke", async (c) => {
      if (draining) return c.json({ message: "draining" }, 503);
      const request = await c.req.json<InvokeRequest>();
      inFlight++;
      try {
        const outcome: InvokeOutcome = { record: await executor.execute(request) };
        return c.json(outcome);
      } catch (err) {
        if (!(err instanceof WhiskError)) throw err;
        return c.json({ error: { status: err.status, message: err.message } } satisfies InvokeOutcome);
      } finally {
        if (--inFlight === 0) drained?.();
      }
    })
    .post("/invalidate", async (c) => {
      executor.invalidate((await c.req.json<{ refs: EntityRef[] }>()).refs);
      return c.body(null, 204);
    })
    .get("/healthz", (c) => {
      const status = supervisor.status();
      return c.json({ ...status, inFlight }, status.ready && !draining ? 200 : 503);
    });
  app.onError((err, c) => {
    console.error("invoker: activation failed:", err);
    return c.json({ message: err.message }, 500);
  });

  const server: ServerType = await listen(app.fetch, config.port);
  const port = (server.address() as { port: number }).port;
  console.log(`edgewhisk invoker listening on :${port}`);

  return {
    port,
    async stop() {
      draining = true;
      if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
      await closeServer(server);
      await supervisor.stop();
      await pool.end();
    },
  };
}
