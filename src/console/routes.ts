// GET /console: the web console, a single-page app whose files were built
// into strings at install time (scripts/build-console.mjs), served the same
// way by the Cloudflare Worker and the Node controller.
import { Hono, type Context } from "hono";
import { consoleAssets, type BuiltAsset } from "./built/assets.js";

/**
 * The console holds an API key: nothing but its own files may run or load,
 * and it may talk to this origin only. No inline script or style, no eval.
 * Styles the editor and charts set go through the CSSOM, which CSP allows.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Answers one built file with the given policy, or 304 when the browser holds this version. */
export function serveAsset(c: Context, asset: BuiltAsset | undefined, csp: string): Response {
  if (!asset) return c.text("Not found", 404);
  const headers = {
    "Content-Type": asset.type,
    "Content-Security-Policy": csp,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    // Revalidated every time: a new build must never meet an old page.
    "Cache-Control": "no-cache",
    ETag: asset.etag,
  };
  if (c.req.header("if-none-match") === asset.etag) return c.body(null, 304, headers);
  return c.body(asset.body, 200, headers);
}

const index = (c: Context) => serveAsset(c, consoleAssets["index.html"], CONSOLE_CSP);

export const consoleRoutes = new Hono()
  .get("/console", index)
  .get("/console/", index)
  .get("/console/:file", (c) => serveAsset(c, consoleAssets[c.req.param("file")], CONSOLE_CSP));
