// The ports a controller serves a request with, bundled: what each host
// wires into the API (src/cloudflare/controller.ts, src/node/controller.ts;
// the Node controller's background tasks share it too). The other ports are
// the invoker's (isolate-host.ts), the SQL store's (sql-database.ts) and the
// admission authorities' (admission.ts).
import type { ResolutionCache } from "../core/resolve.js";
import type { TriggerCache } from "../core/trigger-cache.js";
import type { AlarmService } from "./alarm-service.js";
import type { ConcurrencyGate, Throttle } from "./admission.js";
import type { Dispatcher } from "./dispatcher.js";
import type { Invokers } from "./invokers.js";
import type { Store } from "./store.js";

/** The ports a request is served with. */
export interface Platform {
  store: Store;
  dispatcher: Dispatcher;
  invokers: Invokers;
  alarms: AlarmService;
  throttle: Throttle;
  concurrency: ConcurrencyGate;
  /**
   * The actions this controller resolved for invokes, kept for the next ones
   * (src/core/resolve.ts): one per controller process or isolate, so that
   * its own writes invalidate it at once.
   */
  resolutions: ResolutionCache;
  /**
   * The triggers this controller fired lately, kept for the next fires
   * (src/core/trigger-cache.ts); one per controller process or isolate, so
   * that its own writes invalidate it at once.
   */
  triggers: TriggerCache;
  /** Schedules work that must finish after the response (Workers: ctx.waitUntil). */
  defer(work: Promise<unknown>): void;
  /**
   * What actions see as __OW_API_HOST (configuration: API_HOST). Unset, the
   * origin a request came in on stands in, which suits only a local server:
   * that origin is whatever Host header the caller sent.
   */
  apiHost?: string;
}
