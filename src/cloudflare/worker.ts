// The edgewhisk Worker: controller API (fetch), queue consumers and the
// scheduled cleanup, wired to D1, Queues, invoker Durable Objects and the
// Worker Loader.
import { createApp } from "../api/app.js";
import type { DispatchMessage, Host } from "../ports.js";
import { seedSubject } from "../store/seed.js";
import { SqlStore } from "../store/sql-store.js";
import { D1Sql } from "./d1.js";
import type { Env } from "./env.js";
import { DurableObjectInvokers } from "./invokers.js";
import { consumeActivations, consumeDeadLetters, QueueDispatcher } from "./queue.js";

export { Invoker } from "./invoker-do.js";

const ACTIVATION_RETENTION_MS = 7 * 24 * 60 * 60_000;

function hostFor(env: Env, ctx: ExecutionContext): Host {
  return {
    store: new SqlStore(new D1Sql(env.DB)),
    dispatcher: new QueueDispatcher(env.ACTIVATIONS),
    invokers: new DurableObjectInvokers(env.INVOKER),
    defer: (work) => ctx.waitUntil(work),
  };
}

let seeding: Promise<void> | undefined;

/** Seeds the subjects configured for this deployment, once per isolate. */
function ensureSeeded(env: Env): Promise<void> {
  seeding ??= (async () => {
    const store = new SqlStore(new D1Sql(env.DB));
    if (env.GUEST_AUTH) await seedSubject(store, env.GUEST_AUTH, "guest");
    if (env.WHISK_SYSTEM_AUTH) await seedSubject(store, env.WHISK_SYSTEM_AUTH, "whisk.system");
  })().catch((err) => {
    seeding = undefined;
    throw err;
  });
  return seeding;
}

const app = createApp((c) => hostFor(c.env as Env, c.executionCtx as ExecutionContext));

export default {
  async fetch(request, env, ctx) {
    await ensureSeeded(env);
    return app.fetch(request, env, ctx);
  },

  async queue(batch, env, _ctx) {
    const store = new SqlStore(new D1Sql(env.DB));
    if (batch.queue.endsWith("-dlq")) await consumeDeadLetters(batch, store);
    else {
      const deps = { store, invokers: new DurableObjectInvokers(env.INVOKER), dispatcher: new QueueDispatcher(env.ACTIVATIONS) };
      await consumeActivations(batch, deps);
    }
  },

  async scheduled(_controller, env) {
    await new SqlStore(new D1Sql(env.DB)).deleteActivationsBefore(Date.now() - ACTIVATION_RETENTION_MS);
  },
} satisfies ExportedHandler<Env, DispatchMessage>;
