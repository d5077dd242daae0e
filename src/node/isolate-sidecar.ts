// The isolate host of `npm start`: action isolates run in workerd children
// supervised here, outside the wrangler dev process, rather than in that
// process's own Worker Loader. Local workerd enforces no CPU or memory limit
// and runs every isolate on one thread, so one `while(true){}` there wedged
// the whole local server for every tenant, for good. Here the same
// WorkerdSupervisor as the Kubernetes invoker's kills the child a runaway
// wedges (at its deadline) or bloats (past its memory), and the controller,
// the queues and the invoker Durable Objects keep serving. The invoker
// Durable Objects reach it over loopback HTTP (src/cloudflare/sidecar-isolates.ts).
//
//   POST /run      {key, memoryMb, timeoutMs, request, modules?} (Bearer secret)
//                  → 200 {reply, cold} | 409 {missing} | 422 {startError} | 500 {error}
//   POST /discard  {key} → 204
//   GET  /healthz  → 200 {ready, restarts}
import type { ServerType } from "@hono/node-server";
import { Hono } from "hono";
import { IsolateStartError, type CodeGeneration } from "../ports/isolate-host.js";
import { decodeModules, type WireModules } from "../runtime/module-wire.js";
import type { RunRequest } from "../runtime/protocol.js";
import type { EgressAllowance } from "./config.js";
import { authorizedByInvokerSecret } from "./invoker-http-client.js";
import { closeServer, listen } from "./serve.js";
import { WorkerdSupervisor } from "./workerd/supervisor.js";

export interface SidecarOptions {
  /** Shared with the invoker Durable Objects: nothing else on the machine may run code here. */
  secret: string;
  /** Where actions' requests to their API host go: the local server. */
  controllerUrl: string;
  egressAllow?: EgressAllowance;
  /** Resident memory cap of one workerd child. */
  memoryLimitMb: number;
  /** Workerd children in the pool (a spare besides). */
  children?: number;
  port?: number;
}

export interface RunningSidecar {
  url: string;
  supervisor: WorkerdSupervisor;
  stop(): Promise<void>;
}

interface RunBody {
  key: string;
  memoryMb: number;
  timeoutMs: number;
  codeGeneration?: CodeGeneration;
  request: RunRequest;
  modules?: WireModules;
}

/** The invoker sent no modules for an isolate this host does not hold: it must send them. */
class ModulesNeeded extends Error {}

export async function startIsolateSidecar(options: SidecarOptions): Promise<RunningSidecar> {
  const supervisor = new WorkerdSupervisor({
    memoryLimitMb: options.memoryLimitMb,
    ...(options.children ? { children: options.children } : {}),
    egress: { controllerUrl: options.controllerUrl, ...(options.egressAllow ? { allow: options.egressAllow } : {}) },
  });
  await supervisor.start();

  // The same Bearer check as an invoker's API.
  const app = new Hono().use(async (c, next) => {
    if (c.req.method === "GET" && c.req.path === "/healthz") return next();
    if (!authorizedByInvokerSecret(c.req.header("authorization"), options.secret)) return c.json({ error: "unauthorized" }, 401);
    return next();
  });
  app.post("/run", async (c) => {
    const body = await c.req.json<RunBody>();
    const spec = {
      key: body.key,
      memoryMb: body.memoryMb,
      timeoutMs: body.timeoutMs,
      ...(body.codeGeneration ? { codeGeneration: body.codeGeneration } : {}),
      build: async () => {
        if (!body.modules) throw new ModulesNeeded();
        return decodeModules(body.modules);
      },
    };
    try {
      return c.json(await supervisor.run(spec, body.request));
    } catch (err) {
      if (err instanceof ModulesNeeded) return c.json({ missing: true }, 409);
      if (err instanceof IsolateStartError) return c.json({ startError: err.message }, 422);
      return c.json({ error: err instanceof Error ? err.message : String(err) }, 500);
    }
  });
  app.post("/discard", async (c) => {
    supervisor.discard((await c.req.json<{ key: string }>()).key);
    return c.body(null, 204);
  });
  app.get("/healthz", (c) => c.json(supervisor.status(), supervisor.status().ready ? 200 : 503));

  const server: ServerType = await listen(app.fetch, options.port ?? 0, "127.0.0.1");
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    supervisor,
    async stop() {
      await closeServer(server);
      await supervisor.stop();
    },
  };
}
