// Serving a fetch handler over node:http (@hono/node-server), as a promise.
import { serve, type ServerType } from "@hono/node-server";

type FetchHandler = (request: Request) => Response | Promise<Response>;

/** `hostname` unset: all interfaces. */
export function listen(fetch: FetchHandler, port: number, hostname?: string): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, port, hostname }, () => resolve(server));
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
