// Serving a fetch handler over node:http (@hono/node-server), as a promise.
import { serve, type ServerType } from "@hono/node-server";

type FetchHandler = (request: Request) => Response | Promise<Response>;

/**
 * How long an idle keep-alive connection stays open. Node's default (5 s)
 * equals the idle timeout of Node's own client agent, so a client could send
 * on a connection in the instant the server closed it and get "socket hang
 * up" (seen with the npm openwhisk client under load, and between controller
 * and invoker). The side that closes must be the client: this is longer
 * than the clients' idle timeouts (Node's agents: 5 s; ours: 30 s) and than
 * the 60 s idle timeout load balancers commonly use.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** `hostname` unset: all interfaces. */
export function listen(fetch: FetchHandler, port: number, hostname?: string, keepAliveTimeoutMs = KEEP_ALIVE_TIMEOUT_MS): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, port, hostname }, () => resolve(server));
    if ("keepAliveTimeout" in server) {
      server.keepAliveTimeout = keepAliveTimeoutMs;
      // Kept above keepAliveTimeout, as Node's docs advise for servers behind proxies.
      server.headersTimeout = keepAliveTimeoutMs + 1_000;
    }
    server.once("error", reject);
  });
}

/** How often a closing server looks for keep-alive connections whose last response has gone out. */
const CLOSE_IDLE_EVERY_MS = 100;

/** Stops accepting connections; resolves once the requests in flight are answered. */
export function closeServer(server: ServerType): Promise<void> {
  return new Promise((resolve) => {
    // A keep-alive connection would hold close() open until it times out (5 s):
    // each is closed as soon as it is idle, including those busy at this moment.
    const closeIdle = () => {
      if ("closeIdleConnections" in server) server.closeIdleConnections();
    };
    const timer = setInterval(closeIdle, CLOSE_IDLE_EVERY_MS);
    server.close(() => {
      clearInterval(timer);
      resolve();
    });
    closeIdle();
  });
}
