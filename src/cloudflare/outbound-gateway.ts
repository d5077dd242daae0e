// Every outbound request and TCP connection of an action isolate passes
// through here (it is the isolate's globalOutbound), and src/core/egress.ts
// decides where it may go. Requests to the platform's own API host are
// served in-process (an action calling the OpenWhisk API, a feed action
// talking to its provider) — a Worker could not reach its own route over the
// network. Other public destinations go out to the internet, as OpenWhisk
// actions may by default; loopback, private, metadata and other non-public
// destinations are refused unless EGRESS_ALLOW opens them. Cloudflare's
// network does not let Workers reach private addresses anyway; local workerd
// (`npm start`) does, hence the check. The isolate never sees the platform's
// bindings: it only holds this entrypoint.
import { connect } from "cloudflare:sockets";
import { WorkerEntrypoint } from "cloudflare:workers";
import { deniedMessage, EgressConfigError, EgressPolicy, type EgressDecision } from "../core/egress.js";
import { serveApi } from "./controller.js";
import type { Env } from "./env.js";

export interface GatewayProps {
  apiHost: string;
}

export class OutboundGateway extends WorkerEntrypoint<Env, GatewayProps> {
  /**
   * A refused fetch rejects with a TypeError naming the destination and why,
   * as a refused connection would (and as it does on the Node host, whose
   * network layer refuses the same ranges) — not with a response an action
   * could mistake for the remote server's.
   */
  override async fetch(request: Request): Promise<Response> {
    const decision = this.decide((policy) => policy.checkUrl(request.url));
    if (decision.kind === "api") return serveApi(request, this.env, this.ctx);
    if (decision.kind === "denied") throw new TypeError(deniedMessage(request.url, decision));
    // Redirects come back to the isolate, whose fetch follows them through
    // this gateway again, so every hop is checked.
    return fetch(request, { redirect: "manual" });
  }

  /**
   * connect() from cloudflare:sockets in the isolate lands here with the
   * address it asked for (without this handler workerd fails every such
   * connect). Allowed destinations are piped through. A refused one is
   * closed: the action's socket.opened has already resolved by then, so its
   * first write or read fails with "Network connection lost." — workerd
   * passes no reason across — and the reason goes to the log instead.
   * secureTransport "on" cannot come through a handler at all (workerd:
   * "Incoming CONNECT with TLS not supported").
   */
  override async connect(socket: Socket): Promise<void> {
    const address = (await socket.opened).localAddress ?? "";
    const decision = this.decide((policy) => policy.checkSocket(address));
    if (decision.kind !== "allowed") {
      const reason = decision.kind === "denied" ? deniedMessage(address, decision) : "not a TCP destination";
      console.warn(`egress: refused connect(): ${reason}`);
      await socket.close();
      return;
    }
    // Connect to the address as checked, not as written: a socket would read
    // "2130706433" as 127.0.0.1.
    const upstream = connect(`${decision.host}:${decision.port}`);
    await Promise.allSettled([socket.readable.pipeTo(upstream.writable), upstream.readable.pipeTo(socket.writable)]);
  }

  /**
   * The policy for this isolate's API host and EGRESS_ALLOW. A malformed or
   * unsafe EGRESS_ALLOW fails closed: only the API host stays reachable, and
   * every other destination is refused with the configuration error.
   */
  private decide(check: (policy: EgressPolicy) => EgressDecision): EgressDecision {
    const apiHost = this.ctx.props.apiHost;
    try {
      return check(new EgressPolicy({ apiHost, allow: this.env.EGRESS_ALLOW }));
    } catch (err) {
      if (!(err instanceof EgressConfigError)) throw err;
      const fallback = check(new EgressPolicy({ apiHost }));
      return fallback.kind === "api" ? fallback : { kind: "denied", code: "misconfigured", reason: err.message };
    }
  }
}
