// The controller's request handling on Cloudflare: the Hono app wired to
// D1, the queue and the invoker Durable Objects, with configured subjects
// seeded once per isolate (and, where the dispatch journal is on, its sweep
// started once per isolate).
import { createApp } from "../api/app.js";
import { apiOrigin } from "../core/egress.js";
import { ResolutionCache } from "../core/resolve.js";
import { TriggerCache } from "../core/trigger-cache.js";
import type { Platform } from "../ports/platform.js";
import { seedPlatform } from "../store/seed.js";
import { SqlStore } from "../store/sql-store.js";
import { D1Sql } from "./d1.js";
import { DurableObjectAlarms } from "./alarm-do-client.js";
import { workerAssets } from "./console-assets.js";
import type { Env } from "./env.js";
import { DurableObjectInvokers } from "./invoker-do-client.js";
import { journalSweeper } from "./journal-sweeper-do.js";
import { dispatcherFor } from "./queue.js";
import { concurrencyGate, rateGate } from "./throttle-do-client.js";

/** Actions resolved for invokes, kept per isolate (every request of an isolate shares its D1). */
const resolutions = new ResolutionCache();
/** Triggers read for fires, likewise. */
const triggers = new TriggerCache();

export function platformFor(env: Env, ctx: ExecutionContext): Platform {
  const store = new SqlStore(new D1Sql(env.DB));
  return {
    store,
    dispatcher: dispatcherFor(env, store),
    invokers: new DurableObjectInvokers(env.INVOKER),
    alarms: new DurableObjectAlarms(env.ALARMS),
    throttle: rateGate(env.THROTTLE, store),
    concurrency: concurrencyGate(env.THROTTLE, store),
    resolutions,
    triggers,
    defer: (work) => ctx.waitUntil(work),
    // A malformed API_HOST fails every request loudly rather than hand actions a wrong host.
    apiHost: env.API_HOST ? apiOrigin(env.API_HOST) : undefined,
  };
}

let seeding: Promise<void> | undefined;

/** Seeds the configured subjects and the /whisk.system catalog, once per isolate. */
function ensureSeeded(env: Env): Promise<void> {
  seeding ??= (async () => {
    await seedPlatform(new SqlStore(new D1Sql(env.DB)), { guestAuth: env.GUEST_AUTH, whiskSystemAuth: env.WHISK_SYSTEM_AUTH });
  })().catch((err) => {
    seeding = undefined;
    throw err;
  });
  return seeding;
}

let sweeping = false;

/**
 * Where the journal is on, a new isolate may follow a server that died with
 * accepted work: schedules a journal sweep, once per isolate (the sweeper
 * keeps its own alarm going from then on).
 */
export function ensureSweeping(env: Env, ctx: ExecutionContext): void {
  if (sweeping || !env.DISPATCH_JOURNAL) return;
  sweeping = true;
  ctx.waitUntil(
    journalSweeper(env)
      .start()
      .catch((err) => {
        sweeping = false;
        console.error("starting the dispatch journal sweep failed:", err);
      }),
  );
}

const app = createApp(
  (c) => platformFor(c.env as Env, c.executionCtx as ExecutionContext),
  (c) => workerAssets((c.env as Env).ASSETS),
);

export async function serveApi(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  ensureSweeping(env, ctx);
  await ensureSeeded(env);
  return app.fetch(request, env, ctx);
}
