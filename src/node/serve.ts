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

export function closeServer(server: ServerType): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Idle keep-alive connections would hold close() open.
    if ("closeIdleConnections" in server) server.closeIdleConnections();
  });
}
