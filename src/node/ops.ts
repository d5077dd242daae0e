// The operations endpoints both Node roles answer, before any authentication
// (Prometheus and the kubelet hold no secret; nothing here names a tenant,
// but the figures add up all of them): an invoker on its port, which only the
// cluster reaches; a controller on its OPS_PORT, never on the public API's.
//
//   GET /readyz   200 while the process serves and wants work, 503 before that,
//                 while draining, or when `ready` says a dependency is missing
//   GET /metrics  Prometheus text exposition
//
// /healthz (liveness) stays each role's own.
import type { Drain } from "../core/drain.js";
import type { NodeMetrics } from "./metrics.js";

export interface OpsOptions {
  drain: Drain;
  metrics: NodeMetrics;
  /** What else readiness needs besides serving and not draining (the database reachable, a workerd child up). */
  ready?: () => boolean | Promise<boolean>;
}

/** Answers the operations endpoints; undefined for any other request. */
export function opsEndpoints(options: OpsOptions): (request: Request) => Promise<Response> | undefined {
  return (request) => {
    if (request.method !== "GET") return undefined;
    switch (new URL(request.url).pathname) {
      case "/readyz":
        return readiness(options);
      case "/metrics":
        return options.metrics.response();
      default:
        return undefined;
    }
  };
}

async function readiness({ drain, ready }: OpsOptions): Promise<Response> {
  const phase = drain.phase;
  const serving = drain.ready && (ready ? await ready() : true);
  return Response.json({ ready: serving, phase, inFlight: drain.inFlight }, { status: serving ? 200 : 503 });
}
