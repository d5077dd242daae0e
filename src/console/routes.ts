// GET /console: the web console, a single-page app built at install time
// (scripts/build-console.mjs), and the files of Swagger UI's page at
// /api/v1/docs. Both hosts serve them through this module, with the same
// security headers; only where the bytes come from differs (AssetFetcher).
import { Hono, type Context } from "hono";
import { isAssetPath, mediaTypeOf, type AssetFetcher } from "./assets.js";

const policy = (directives: Record<string, string>) =>
  Object.entries(directives)
    .map(([name, value]) => `${name} ${value}`)
    .join("; ");

/**
 * The console holds an API key: nothing but its own files may run or load,
 * and it may talk to this origin only. No inline script or style, no eval.
 * Styles set through the CSSOM (the charts, the timeline's bars) and
 * constructed style sheets (the editor, inside a shadow root) are not
 * inline styles to CSP.
 */
export const CONSOLE_CSP = policy({
  "default-src": "'none'",
  "script-src": "'self'",
  "style-src": "'self'",
  "img-src": "'self' data:",
  "font-src": "'self'",
  "connect-src": "'self'",
  "base-uri": "'none'",
  "form-action": "'none'",
  "frame-ancestors": "'none'",
});

/** Swagger UI's React views set style attributes and its icons are data: URLs; its scripts are this origin's own all the same. */
export const DOCS_CSP = policy({
  "default-src": "'none'",
  "script-src": "'self'",
  "style-src": "'self' 'unsafe-inline'",
  "img-src": "'self' data:",
  "font-src": "'self' data:",
  "connect-src": "'self'",
  "base-uri": "'none'",
  "form-action": "'none'",
  "frame-ancestors": "'none'",
});

/** The headers every console and docs response carries. */
export function securityHeaders(csp: string): Record<string, string> {
  return {
    "Content-Security-Policy": csp,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    // Revalidated every time (cheap with the ETag): a new build must never meet an old page.
    "Cache-Control": "no-cache",
  };
}

/** Which host's files a request reads; undefined where the console is not served. */
export type AssetsFor = (c: Context) => AssetFetcher | undefined;

async function serveFile(c: Context, assetsFor: AssetsFor, path: string, csp: string): Promise<Response> {
  const fetchAsset = assetsFor(c);
  if (!fetchAsset || !isAssetPath(path)) return c.text("Not found", 404);
  const answer = await fetchAsset(path, c.req.header("if-none-match"));
  if (answer.status === 404) {
    return c.text(path === "console/index.html" ? "The console is not built: run node scripts/build-console.mjs" : "Not found", 404);
  }
  const headers = new Headers(securityHeaders(csp));
  headers.set("Content-Type", mediaTypeOf(path));
  const etag = answer.headers.get("etag");
  if (etag) headers.set("ETag", etag);
  return new Response(answer.status === 304 ? null : answer.body, { status: answer.status === 304 ? 304 : 200, headers });
}

export function consoleRoutes(assetsFor: AssetsFor): Hono {
  const index = (c: Context) => serveFile(c, assetsFor, "console/index.html", CONSOLE_CSP);
  return new Hono()
    .get("/console", index)
    .get("/console/", index)
    .get("/console/:file", (c) => serveFile(c, assetsFor, `console/${c.req.param("file")}`, CONSOLE_CSP))
    .get("/api/v1/docs/:file{swagger-ui\\.css|swagger-ui-bundle\\.js|swagger-initializer\\.js}", (c) =>
      serveFile(c, assetsFor, `docs/${c.req.param("file")}`, DOCS_CSP),
    );
}
