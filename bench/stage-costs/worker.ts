// The steps bench/stage-costs.mjs times: `GET /?step=NAME&n=N` runs one step
// N times in a loop (inside the Worker or inside a Durable Object) and
// answers "ok"; the driver reads the CPU the server used meanwhile.
import { DurableObject, waitUntil } from "cloudflare:workers";
import { createApp } from "../../src/api/app.js";
import { ActivationOutbox } from "../../src/cloudflare/outbox.js";
import { ConcurrencyLimiter } from "../../src/core/concurrency.js";
import { MemoryLeaseAuthority } from "../../src/core/lease-book.js";
import { RateGate } from "../../src/core/throttle.js";
import { ActivationExecutor } from "../../src/invoker/executor.js";
import type { ResolvedAction } from "../../src/core/resolve.js";
import type { InvokeRequest } from "../../src/ports/invokers.js";
import type { Platform } from "../../src/ports/platform.js";
import type { Store } from "../../src/ports/store.js";

interface Env {
  DB: D1Database;
  OBJECT: DurableObjectNamespace<Stage>;
}

/** A hello activation's record, as the invoker answers and stores it. */
const RECORD = {
  namespace: "guest", name: "hello", version: "0.0.1", subject: "guest", activationId: "0123456789abcdef0123456789abcdef",
  start: 1_795_948_107_975, end: 1_795_948_107_985, duration: 10, statusCode: 0,
  response: { status: "success", statusCode: 0, success: true, result: { payload: "Hello, World!" } },
  logs: [] as string[],
  annotations: [
    { key: "path", value: "guest/hello" }, { key: "waitTime", value: 3 }, { key: "kind", value: "nodejs:22" },
    { key: "timeout", value: false }, { key: "limits", value: { concurrency: 1, logs: 10, memory: 256, timeout: 60000 } },
  ],
  publish: false,
};
const GUEST_KEY = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP";
const RESOLVED: ResolvedAction = {
  ref: { namespace: "guest", name: "hello" },
  addressed: { namespace: "guest", name: "hello" },
  doc: {
    namespace: "guest", name: "hello", version: "0.0.1", publish: false, updated: 1, parameters: [],
    annotations: [{ key: "provide-api-key", value: false }, { key: "exec", value: "nodejs" }],
    exec: { kind: "nodejs:22", binary: false },
    limits: { timeout: 60_000, memory: 256, logs: 10, concurrency: 1 },
  },
  codeDigest: "digest",
  params: [],
};
let sink: unknown;
let serial = 0;

/** The controller's Hono app over in-memory ports: its own JavaScript, without HTTP, RPC or storage. */
async function controllerApp(): Promise<{ fetch: (request: Request, ctx: ExecutionContext) => Promise<Response> }> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(GUEST_KEY));
  const keyHash = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  const limitsOf = async () => ({ invocationsPerMinute: 1e9 });
  const store = { findSubject: async (uuid: string) => ({ subject: "guest", namespace: "guest", uuid, keyHash }), getNamespaceLimits: limitsOf };
  const platform = {
    store,
    throttle: new RateGate({ authority: async (_ns, _kind, _minute, wanted) => ({ granted: wanted, count: 1 }), limitsOf }),
    concurrency: new ConcurrencyLimiter({ authority: new MemoryLeaseAuthority(), limitsOf, keepAlive: waitUntil }),
    invokers: { invoke: async (request: InvokeRequest) => ({ ...RECORD, activationId: request.activationId }) },
    defer: (work: Promise<unknown>) => waitUntil(work),
  } as unknown as Platform;
  const app = createApp(() => platform);
  return { fetch: (request, ctx) => Promise.resolve(app.fetch(request, {}, ctx)) };
}
let controller: ReturnType<typeof controllerApp> | undefined;

export class Stage extends DurableObject<Env> {
  private readonly executors = new Map<string, ActivationExecutor>();

  /** An executor whose isolate answers hello at once; its records go nowhere, or through the outbox to a store that drops them. */
  private executor(withOutbox: boolean): ActivationExecutor {
    const name = String(withOutbox);
    let executor = this.executors.get(name);
    if (executor) return executor;
    const outbox = new ActivationOutbox(this.ctx.storage, { putActivations: async () => {} } as unknown as Store);
    executor = new ActivationExecutor({
      store: {} as Store,
      isolates: {
        run: async () => ({ reply: { outcome: "result", result: { payload: "Hello, World!" }, logs: [], truncated: false, runMs: 0 }, cold: false }),
        discard() {},
      },
      runnerSource: "",
      preinstalled: { openwhisk: "" },
      invokeComponent: () => Promise.reject(new Error("no components here")),
      throttle: { admit: async () => {} },
      concurrency: { acquire: async () => undefined, hold: async () => {}, release: async () => {} },
      recordActivation: withOutbox ? (record, bytes) => outbox.add(record, bytes) : async () => {},
      background: (work) => this.ctx.waitUntil(work),
    });
    this.executors.set(name, executor);
    return executor;
  }

  noop(): null {
    return null;
  }

  /** Called by the alarm-fired step's alarms. */
  private alarmFired: (() => void) | undefined;

  override async alarm(): Promise<void> {
    this.alarmFired?.();
  }

  record(): typeof RECORD {
    return RECORD;
  }

  async run(step: string, n: number): Promise<void> {
    const kv = this.ctx.storage.kv;
    const request = (): InvokeRequest => ({
      activationId: `a${serial++}`, transactionId: "t", action: { namespace: "guest", name: "hello" },
      identity: { subject: "guest", namespace: "guest", uuid: "u", authKey: "k" }, params: {}, receivedAt: Date.now(), apiHost: "http://127.0.0.1",
    });
    switch (step) {
      case "storage-put-each":
        for (let i = 0; i < n; i++) {
          kv.put(`each:${i % 64}`, [RECORD]);
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
        return;
      case "alarm-set-and-deleted":
        for (let i = 0; i < n; i++) {
          void this.ctx.storage.setAlarm(Date.now() + 60_000);
          await new Promise((resolve) => setTimeout(resolve, 0));
          void this.ctx.storage.deleteAlarm();
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
        return;
      case "alarm-set-and-fired":
        for (let i = 0; i < n; i++) {
          await new Promise<void>((resolve) => {
            this.alarmFired = resolve;
            void this.ctx.storage.setAlarm(Date.now());
          });
        }
        this.alarmFired = undefined;
        return;
      case "timer-fired-in-object":
        for (let i = 0; i < n; i++) await new Promise((resolve) => setTimeout(resolve, 0));
        return;
      case "storage-list-one":
        kv.put("list:x", [RECORD]);
        for (let i = 0; i < n; i++) sink = [...kv.list({ prefix: "list:" })];
        kv.delete("list:x");
        return;
      case "storage-get-put":
        for (let i = 0; i < n; i++) {
          sink = kv.get("counter");
          kv.put("counter", { issued: i, denied: 0 });
        }
        return;
      case "d1-insert-1-per-call":
        for (let i = 0; i < n; i++) await insertActivations(this.env.DB, 1);
        return;
      case "d1-insert-10-per-call":
        for (let i = 0; i < n; i += 10) await insertActivations(this.env.DB, 10);
        return;
      case "executor-js":
      case "executor-and-outbox":
        for (let i = 0; i < n; i++) await this.executor(step === "executor-and-outbox").execute(request(), RESOLVED);
        return;
      case "executor-and-outbox-10-at-once":
        for (let i = 0; i < n; i += 10) await Promise.all(Array.from({ length: 10 }, () => this.executor(true).execute(request(), RESOLVED)));
        return;
    }
    throw new Error(`no step ${step}`);
  }
}

async function insertActivations(db: D1Database, count: number): Promise<void> {
  const insert = db.prepare("INSERT INTO activations (activation_id, namespace, name, start_ms, doc) VALUES (?, ?, ?, ?, ?) ON CONFLICT (activation_id) DO NOTHING");
  await db.batch(
    Array.from({ length: count }, () => {
      const id = `${Date.now()}-${serial++}`;
      return insert.bind(id, RECORD.namespace, RECORD.name, RECORD.start, JSON.stringify({ ...RECORD, activationId: id }));
    }),
  );
}

export default {
  async fetch(request, env, ctx): Promise<Response> {
    const url = new URL(request.url);
    const step = url.searchParams.get("step") ?? "none";
    const n = Number(url.searchParams.get("n") ?? "1");
    const object = env.OBJECT.get(env.OBJECT.idFromName("stage"));
    switch (step) {
      case "setup":
        await env.DB.prepare("CREATE TABLE IF NOT EXISTS activations (activation_id TEXT PRIMARY KEY, namespace TEXT, name TEXT, start_ms INTEGER, doc TEXT)").run();
        break;
      case "none":
        break;
      case "object-rpc":
        for (let i = 0; i < n; i++) await object.noop();
        break;
      case "object-rpc-answering-a-record":
        for (let i = 0; i < n; i++) sink = await object.record();
        break;
      case "timer-set-and-cleared":
        for (let i = 0; i < n; i++) clearTimeout(setTimeout(() => {}, 60_000));
        break;
      case "controller-js": {
        controller ??= controllerApp();
        const app = await controller;
        const auth = `Basic ${btoa(GUEST_KEY)}`;
        for (let i = 0; i < n; i++) {
          const res = await app.fetch(new Request("http://127.0.0.1/api/v1/namespaces/_/actions/hello?blocking=true&result=true", { method: "POST", headers: { authorization: auth } }), ctx);
          sink = await res.text();
        }
        break;
      }
      default:
        await object.run(step, n);
    }
    return new Response("ok");
  },
} satisfies ExportedHandler<Env>;
