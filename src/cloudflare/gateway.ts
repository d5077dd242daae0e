// Every outbound request of an action isolate passes through here. Requests
// to the platform's own API host are served in-process (an action calling
// the OpenWhisk API, a feed action talking to its provider) — a Worker could
// not reach its own route over the network — and everything else goes out
// to the internet, which OpenWhisk actions may use by default. The isolate
// never sees the platform's bindings: it only holds this Fetcher.
import { WorkerEntrypoint } from "cloudflare:workers";
import { serveApi } from "./controller.js";
import type { Env } from "./env.js";

export interface GatewayProps {
  apiHost: string;
}

export class OutboundGateway extends WorkerEntrypoint<Env, GatewayProps> {
  override async fetch(request: Request): Promise<Response> {
    if (new URL(request.url).origin === this.ctx.props.apiHost) return serveApi(request, this.env, this.ctx);
    return fetch(request);
  }
}
