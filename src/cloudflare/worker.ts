// The edgewhisk Worker: controller API (fetch), queue consumers and the
// scheduled cleanup, wired to D1, Queues, invoker Durable Objects and the
// Worker Loader.
import type { DispatchMessage } from "../ports/dispatcher.js";
import { activationRetentionMs, purgeExpiredActivations } from "../store/retention.js";
import { SqlStore } from "../store/sql-store.js";
import { ensureSweeping, serveApi } from "./controller.js";
import { D1Sql } from "./d1.js";
import type { Env } from "./env.js";
import { DurableObjectInvokers } from "./invoker-do-client.js";
import { concurrencyGate, rateGate } from "./throttle-do-client.js";
import { consumeActivations, consumeDeadLetters, dispatcherFor } from "./queue.js";

export { AlarmFeed } from "./alarm-do.js";
export { OutboundGateway } from "./outbound-gateway.js";
export { Invoker } from "./invoker-do.js";
export { JournalSweeper } from "./journal-sweeper-do.js";
export { NamespaceThrottle } from "./throttle-do.js";

export default {
  async fetch(request, env, ctx) {
    return serveApi(request, env, ctx);
  },

  async queue(batch, env, ctx) {
    ensureSweeping(env, ctx);
    const store = new SqlStore(new D1Sql(env.DB));
    if (batch.queue.endsWith("-dlq")) await consumeDeadLetters(batch, store, concurrencyGate(env.THROTTLE, store));
    else {
      const deps = {
        store,
        invokers: new DurableObjectInvokers(env.INVOKER),
        // Rule activations of a fire are accepted work too: journaled like the fire.
        dispatcher: dispatcherFor(env, store),
        throttle: rateGate(env.THROTTLE, store),
        concurrency: concurrencyGate(env.THROTTLE, store),
      };
      // Under npm start (the journal on) the queue is miniflare's, which redelivers only by retry.
      await consumeActivations(batch, deps, { firstDeliveryIsFirst: Boolean(env.DISPATCH_JOURNAL) });
    }
  },

  async scheduled(_controller, env, _ctx) {
    await purgeExpiredActivations(new SqlStore(new D1Sql(env.DB)), activationRetentionMs(env.ACTIVATION_RETENTION_DAYS));
  },
} satisfies ExportedHandler<Env, DispatchMessage>;
