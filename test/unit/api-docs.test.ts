// The Swagger document at /api/v1/api-docs and the router agree: every route
// the controller registers is documented, and every documented operation is
// routed. Parameter names differ on purpose (the document keeps OpenWhisk's
// `actionName`, `packageName`, `activationid`), so paths compare by shape.
import { describe, expect, it } from "vitest";
import { apiDocument } from "../../src/api/api-docs.js";
import { createApp } from "../../src/api/app.js";

const app = createApp(() => {
  throw new Error("reading the route table needs no host");
});
const document = apiDocument("edgewhisk.test", "https");
const BASE = document.basePath;

/**
 * Routes the document leaves out, each with why. `ALL` routes are middleware
 * or dispatchers that take every method and refuse what they do not serve
 * themselves; they are listed one by one so a new one has to be placed.
 */
const UNDOCUMENTED: Record<string, string> = {
  "ALL /*": "middleware: transaction id and platform",
  "ALL /api/v1/*": "middleware: CORS headers",
  "ALL /api/v1/namespaces": "middleware: authentication",
  "ALL /api/v1/namespaces/*": "middleware: authentication",
  "ALL /runtime/namespaces/*": "middleware: authentication",
  "ALL /api/v1/feeds/*": "middleware: authentication",
  "ALL /api/v1/web/*": "web actions take every method; documented as the one /web/... GET the document can describe",
  "ALL /api/v1/web/whisk.system/apimgmt/:operation{(createApi|getApi|deleteApi)(\\.(http|json))?}":
    "the API management web actions the CLI's `wsk api` calls, not part of the REST API",
  "ALL /api/:tenant{[A-Za-z0-9-]+}": "API gateway routes: tenants' own APIs, not this one",
  "ALL /api/:tenant{[A-Za-z0-9-]+}/*": "API gateway routes: tenants' own APIs, not this one",
  "OPTIONS /api/v1/*": "CORS preflight, answered on every path",
  "GET /": "platform information, outside the document's base path",
  "GET /api/v1": "the API's own description, which points at this document",
  "GET /api/v1/api-docs": "this document",
  "GET /api/v1/docs": "Swagger UI over this document",
  "GET /api/v1/docs/index.html": "Swagger UI over this document",
  "GET /api/v1/docs/:file{swagger-ui\\.css|swagger-ui-bundle\\.js|swagger-initializer\\.js}": "Swagger UI's own files",
  "GET /console": "the web console, outside the document's base path",
  "GET /console/": "the web console, outside the document's base path",
  "GET /console/:file": "the web console's files, outside the document's base path",
  "GET /runtime/namespaces/:namespace/logForwarding": "Adobe I/O Runtime's API, outside the document's base path",
  "GET /runtime/namespaces/:namespace/logForwarding/errors": "Adobe I/O Runtime's API, outside the document's base path",
  "PUT /runtime/namespaces/:namespace/logForwarding": "Adobe I/O Runtime's API, outside the document's base path",
  "POST /api/v1/feeds/alarms/:kind": "the alarm provider only the whisk.system/alarms feed actions call",
};

/** Documented operations no method-specific route serves, each with the route that does. */
const SERVED_BY_CATCH_ALL: Record<string, string> = {
  "GET /web/{}/{}/{}.{}": "ALL /api/v1/web/*",
};

/** `/a/:x/b/{y}` → `/a/{}/b/{}`: a path's shape, whatever its parameters are called. */
const shape = (path: string) => path.replace(/:[A-Za-z0-9_]+|\{[A-Za-z0-9_]+\}/g, "{}");

const routes = [...new Set(app.routes.map((route) => `${route.method} ${route.path}`))];
const documented = Object.entries(document.paths).flatMap(([path, operations]) =>
  Object.keys(operations).map((method) => `${method.toUpperCase()} ${shape(path)}`),
);

describe("the API document and the router", () => {
  it("documents every route but the listed exceptions", () => {
    const served = routes.filter((route) => !(route in UNDOCUMENTED)).map((route) => {
      const [method, path] = route.split(" ");
      expect(path.startsWith(`${BASE}/`), `${route} is outside ${BASE}`).toBe(true);
      return `${method} ${shape(path.slice(BASE.length))}`;
    });
    expect(served.length).toBeGreaterThan(20);
    expect(served.filter((route) => !documented.includes(route))).toEqual([]);
  });

  it("lists no exception for a route that no longer exists", () => {
    expect(Object.keys(UNDOCUMENTED).filter((route) => !routes.includes(route))).toEqual([]);
    expect(Object.values(SERVED_BY_CATCH_ALL).filter((route) => !routes.includes(route))).toEqual([]);
  });

  it("routes every documented operation", () => {
    const routed = new Set(routes.filter((route) => route.split(" ")[1].startsWith(`${BASE}/`)).map((route) => shape(route.replace(BASE, ""))));
    expect(documented.filter((operation) => !routed.has(operation) && !(operation in SERVED_BY_CATCH_ALL))).toEqual([]);
  });

  it("declares each path parameter of each documented path, and no other", () => {
    const mismatched = Object.entries(document.paths).flatMap(([path, operations]) => {
      const inPath = [...path.matchAll(/\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]).sort();
      return Object.entries(operations as Record<string, { parameters?: { name: string; in: string }[] }>)
        .map(([method, operation]) => ({
          operation: `${method.toUpperCase()} ${path}`,
          declared: (operation.parameters ?? []).filter((p) => p.in === "path").map((p) => p.name).sort(),
        }))
        .filter(({ declared }) => declared.join() !== inPath.join());
    });
    expect(mismatched).toEqual([]);
  });
});
