// The bindings of the edgewhisk Worker (see wrangler.toml).
import type { DispatchMessage } from "../ports/dispatcher.js";
import type { AlarmFeed } from "./alarm-do.js";
import type { Invoker } from "./invoker-do.js";
import type { JournalSweeper } from "./journal-sweeper-do.js";
import type { NamespaceThrottle } from "./throttle-do.js";

export interface Env {
  DB: D1Database;
  ACTIVATIONS: Queue<DispatchMessage>;
  ACTIVATIONS_DLQ: Queue<DispatchMessage>;
  INVOKER: DurableObjectNamespace<Invoker>;
  ALARMS: DurableObjectNamespace<AlarmFeed>;
  THROTTLE: DurableObjectNamespace<NamespaceThrottle>;
  JOURNAL_SWEEPER: DurableObjectNamespace<JournalSweeper>;
  LOADER: WorkerLoader;
  /**
   * Optional: where invokers share the Python memory snapshot (src/cloudflare/python-isolates.ts).
   * Unbound, each invoker makes its own on its first Python cold start.
   */
  PYTHON_SNAPSHOTS?: R2Bucket;
  /** The console's and Swagger UI's built files (wrangler.toml [assets]; src/cloudflare/console-assets.ts). */
  ASSETS?: Fetcher;
  /** `uuid:key` of the guest namespace to seed (local development; see .dev.vars). */
  GUEST_AUTH?: string;
  /** `uuid:key` of the whisk.system namespace to seed (local development). */
  WHISK_SYSTEM_AUTH?: string;
  /**
   * What actions see as __OW_API_HOST, e.g. https://whisk.example.com. Unset,
   * the origin each request came in on stands in (fine for a local server).
   */
  API_HOST?: string;
  /**
   * Private destinations action code may reach: comma-separated CIDRs or
   * host[:port] (src/core/egress.ts). Loopback and metadata are refused.
   */
  EGRESS_ALLOW?: string;
  /** Days activation records are kept before the daily cron removes them (src/store/retention.ts; default 7). */
  ACTIVATION_RETENTION_DAYS?: string;
  /**
   * Set by `npm start` only (scripts/start-local.ts): the local isolate
   * sidecar that runs actions in supervised workerd children, and the secret
   * it takes. Deployed Workers leave them unset and use LOADER.
   */
  ISOLATE_SIDECAR_URL?: string;
  ISOLATE_SIDECAR_SECRET?: string;
  /**
   * Set by `npm start` only, to an id of that server run: journal accepted
   * messages in D1 before queueing them, because local Queues keep messages
   * in memory (src/activation/journal.ts). Deployed Queues are durable, so
   * deployed Workers leave it unset and pay no journal write.
   */
  DISPATCH_JOURNAL?: string;
}
