// Headers added to a response after its handler made it, by middleware.
import type { Context } from "hono";

/**
 * Sets headers on the response a handler made, in place. Hono's `c.header`
 * copies a finished response once per header set (four copies a request:
 * about 4 % of the Cloudflare controller isolate's busy time in a warm
 * invoke's profile); only a response whose headers are immutable (one that
 * came from a fetch) is copied here, once.
 */
export function setResponseHeaders(c: Context, headers: Record<string, string>): void {
  const entries = Object.entries(headers);
  try {
    for (const [name, value] of entries) c.res.headers.set(name, value);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    c.res = new Response(c.res.body, c.res);
    for (const [name, value] of entries) c.res.headers.set(name, value);
  }
}
