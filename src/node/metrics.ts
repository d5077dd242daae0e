// The Node host's Prometheus metrics (GET /metrics on both roles' HTTP
// port): what core's observer calls and the host's own sources report,
// translated into prom-client's counters, gauges and histogram. Each process
// role gets its own registry (tests run several in one process). Labels come
// from src/core/metrics.ts only; docs/kubernetes.md lists the metrics.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ActivationRecord } from "../core/activation.js";
import { activationSample, THROTTLED_LIMITS, type ThrottledLimit } from "../core/metrics.js";
import type { ActivationObserver } from "../ports/observer.js";

/** Seconds: warm runs take milliseconds, cold ones up to seconds, the longest action 300 s. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** What an invoker's workerd supervisor reports (its status()); rotations where the supervisor rotates children. */
export interface WorkerdCounts {
  restarts: number;
  rotations?: number;
  children: { isolates?: number }[];
}

export class NodeMetrics implements ActivationObserver {
  readonly registry = new Registry();
  private readonly activations: Counter<"outcome" | "kind">;
  private readonly durations: Histogram<"start">;
  private readonly refusals: Counter<"limit">;
  private readonly redeliveries: Counter;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.activations = new Counter({
      name: "edgewhisk_activations_total",
      help: "Activations recorded by this process, by outcome and runtime kind",
      labelNames: ["outcome", "kind"],
      registers,
    });
    this.durations = new Histogram({
      name: "edgewhisk_invoke_duration_seconds",
      help: "Duration of activations run in an isolate (init included), by whether the run started the isolate",
      labelNames: ["start"],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.refusals = new Counter({
      name: "edgewhisk_throttled_total",
      help: "Attempts refused with 429 by a namespace limit",
      labelNames: ["limit"],
      registers,
    });
    for (const limit of THROTTLED_LIMITS) this.refusals.inc({ limit }, 0);
    this.redeliveries = new Counter({
      name: "edgewhisk_redeliveries_total",
      help: "Activation messages NATS delivered again (a consumer died, timed out or asked for a retry)",
      registers,
    });
  }

  recorded(record: ActivationRecord): void {
    const sample = activationSample(record);
    this.activations.inc({ outcome: sample.outcome, kind: sample.kind });
    if (sample.run) this.durations.observe({ start: sample.run.start }, sample.run.seconds);
  }

  throttled(limit: ThrottledLimit): void {
    this.refusals.inc({ limit });
  }

  redelivered(): void {
    this.redeliveries.inc();
  }

  /** Reports the depth of the activation queue, read at each scrape; NaN when it cannot be read. */
  watchQueue(pending: () => Promise<number>): void {
    new Gauge({
      name: "edgewhisk_queue_pending",
      help: "Accepted activation messages not yet delivered to any consumer (NaN: NATS could not be asked)",
      registers: [this.registry],
      async collect() {
        this.set(await pending().catch(() => NaN));
      },
    });
  }

  /** Reports an invoker's workerd children, read at each scrape. */
  /** The invoker's capacity as it announces it to controllers (membership heartbeats). */
  watchSlots(slots: () => { capacity: number; free: number }): void {
    const registers = [this.registry];
    new Gauge({
      name: "edgewhisk_invoker_slots",
      help: "Activations this invoker takes at once (INVOKER_CONCURRENCY)",
      registers,
      collect() {
        this.set(slots().capacity);
      },
    });
    new Gauge({
      name: "edgewhisk_invoker_free_slots",
      help: "Slots free now, as announced to controllers",
      registers,
      collect() {
        this.set(slots().free);
      },
    });
  }

  watchWorkerd(status: () => WorkerdCounts): void {
    const registers = [this.registry];
    new Gauge({
      name: "edgewhisk_warm_isolates",
      help: "Action isolates loaded in this invoker's serving workerd children",
      registers,
      collect() {
        this.set(status().children.reduce((sum, child) => sum + (child.isolates ?? 0), 0));
      },
    });
    // Counters whose count the supervisor keeps: each scrape reads it again.
    const counted = (name: string, help: string, read: (counts: WorkerdCounts) => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read(status()));
        },
      });
    counted("edgewhisk_workerd_restarts_total", "workerd children killed and replaced (spinning, memory-hungry or crashed)", (s) => s.restarts);
    counted("edgewhisk_workerd_rotations_total", "workerd children rotated out after their work ended (memory kept by loaded isolates)", (s) => s.rotations ?? 0);
  }

  /** The Prometheus text exposition of everything above. */
  async response(): Promise<Response> {
    const body = await this.registry.metrics();
    return new Response(body, { headers: { "content-type": this.registry.contentType } });
  }
}
