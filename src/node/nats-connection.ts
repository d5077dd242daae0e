// Connecting a controller or an invoker to NATS from its NATS_URL.
import { connect, type NatsConnection } from "@nats-io/transport-node";

/**
 * nats.js takes credentials as options, not from the URL: NATS_URL
 * nats://user:password@host:port (or nats://token@host:port) becomes the
 * server and its user and password (or token).
 */
export function natsConnectionOptions(natsUrl: string): { servers: string; user?: string; pass?: string; token?: string } {
  const url = URL.canParse(natsUrl) ? new URL(natsUrl) : undefined;
  if (!url?.username) return { servers: natsUrl };
  const servers = `${url.protocol}//${url.host}`;
  const user = decodeURIComponent(url.username);
  return url.password ? { servers, user, pass: decodeURIComponent(url.password) } : { servers, token: user };
}

/**
 * A connection that keeps reconnecting for the process's life. Without
 * noAsyncTraces, nats.js builds an Error (a captured stack) ahead of every
 * request, JetStream publish, pull and ack timer, in case it times out: 5 %
 * of a controller's CPU under non-blocking load, for stacks only a timeout
 * would show.
 */
export function connectNats(natsUrl: string, name: string): Promise<NatsConnection> {
  return connect({ ...natsConnectionOptions(natsUrl), maxReconnectAttempts: -1, name, noAsyncTraces: true });
}
