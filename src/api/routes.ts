// How route modules register entity routes, and the 405 read off those
// registrations: what a path allows comes from the router itself, not from a
// table kept beside it.
import type { Env, Handler, Hono, MiddlewareHandler } from "hono";
import { methodNotAllowed as honoMethodNotAllowed } from "hono/method-not-allowed";
import type { ApiEnv } from "./context.js";
import { methodNotAllowed } from "./errors.js";

type EntityMethod = "GET" | "PUT" | "DELETE" | "POST";

/**
 * Registers an entity's handlers under `collection/:name` and
 * `collection/:pkg/:name` alike (in the order given, which is the order a 405
 * lists them in), so an entity inside a package takes exactly the methods one
 * at the namespace's top level does.
 */
export function entityInOrOutOfPackage<E extends Env>(
  routes: Hono<E>,
  collection: string,
  handlers: Partial<Record<EntityMethod, Handler<E>>>,
): Hono<E> {
  for (const [method, handler] of Object.entries(handlers)) {
    routes.on(method, [`${collection}/:name`, `${collection}/:pkg/:name`], handler);
  }
  return routes;
}

/**
 * The methods a 405 names out of those hono finds routed for a path. Hono adds
 * HEAD beside every GET, and the CORS preflight route answers OPTIONS on every
 * /api/v1 path, so neither says what a path supports (nor did the 405s of the
 * table this replaces name either).
 */
function declaredMethods(routed: string[]): string[] {
  return routed.filter((method) => method !== "HEAD" && method !== "OPTIONS");
}

/**
 * Turns a 404 into OpenWhisk's 405 when the path has routes but none for the
 * request's method, naming the methods those routes take. It must run inside
 * the CORS middleware so the 405 carries CORS headers as every /api/v1 answer
 * does; a 404 that a handler threw (a missing entity) stays a 404.
 */
export function refuseUnroutedMethods(app: Hono<ApiEnv>): MiddlewareHandler<ApiEnv> {
  return honoMethodNotAllowed<ApiEnv>({
    app,
    onMethodNotAllowed: (c, routed) => {
      const allowed = declaredMethods(routed);
      // Only the preflight matched: no resource lives here, the 404 stands.
      if (allowed.length === 0) return c.res;
      throw methodNotAllowed(allowed);
    },
  });
}
