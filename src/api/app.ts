// The controller REST API, assembled from one route module per resource.
// Hosts pass in how to find the ports for a request.
import { Hono, type Context } from "hono";
import { actionRoutes } from "./actions.js";
import { activationRoutes } from "./activations.js";
import { requireAuth } from "./auth.js";
import type { ApiEnv } from "./context.js";
import { renderError, renderNotFound } from "./errors.js";
import { feedRoutes } from "./feeds.js";
import { infoRoutes } from "./info.js";
import { namespaceRoutes } from "./namespaces.js";
import { packageRoutes } from "./packages.js";
import { ruleRoutes } from "./rules.js";
import { triggerRoutes } from "./triggers.js";
import { webRoutes } from "./web.js";
import { apiManagementRoutes } from "./apimgmt.js";
import { apiDocsRoutes } from "./api-docs.js";
import { consoleRoutes, type AssetsFor } from "../console/routes.js";
import { serveGatewayRoute } from "./api-gateway.js";
import { logForwardingRoutes } from "./log-forwarding.js";
import { refuseUnroutedMethods } from "./routes.js";
import { setResponseHeaders } from "./response-headers.js";
import type { Platform } from "../ports/platform.js";

const CORS_HEADERS = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Headers": "Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent",
  "Access-Control-Allow-Methods": "GET, DELETE, POST, PUT, HEAD",
};

/** `assetsFor`: where the console's built files come from (none: /console answers 404). */
export function createApp(resolvePlatform: (c: Context) => Platform, assetsFor: AssetsFor = () => undefined): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.use("*", async (c, next) => {
    const transactionId = crypto.randomUUID().replaceAll("-", "");
    c.set("transactionId", transactionId);
    c.set("platform", resolvePlatform(c));
    await next();
    setResponseHeaders(c, { "X-Request-ID": transactionId });
  });
  // Web actions answer CORS themselves (an action may even take OPTIONS over).
  app.route("/api/v1/web/whisk.system/apimgmt", apiManagementRoutes);
  app.route("/api/v1/web", webRoutes);
  app.use("/api/v1/*", async (c, next) => {
    await next();
    setResponseHeaders(c, CORS_HEADERS);
  });
  app.options("/api/v1/*", (c) => c.body(null, 200, CORS_HEADERS));
  // Inside the CORS middleware, so a 405 carries its headers. Web actions and
  // API management, mounted above and taking every method, refuse their own.
  app.use("*", refuseUnroutedMethods(app));
  app.route("/", infoRoutes);
  app.route("/", apiDocsRoutes);
  app.route("/", consoleRoutes(assetsFor));

  app.use("/api/v1/namespaces", requireAuth);
  app.use("/api/v1/namespaces/*", requireAuth);
  const namespaces = new Hono<ApiEnv>();
  namespaces.route("/", namespaceRoutes);
  namespaces.route("/", actionRoutes);
  namespaces.route("/", activationRoutes);
  namespaces.route("/", packageRoutes);
  namespaces.route("/", triggerRoutes);
  namespaces.route("/", ruleRoutes);
  app.route("/api/v1/namespaces", namespaces);
  app.use("/runtime/namespaces/*", requireAuth);
  app.route("/runtime/namespaces", logForwardingRoutes);
  app.use("/api/v1/feeds/*", requireAuth);
  app.route("/api/v1/feeds", feedRoutes);
  // The API gateway's routes, under the tenant (never `v1`: that is this API).
  const gateway = (c: Context<ApiEnv>) => (c.req.param("tenant") === "v1" ? c.notFound() : serveGatewayRoute(c));
  app.all("/api/:tenant{[A-Za-z0-9-]+}", gateway);
  app.all("/api/:tenant{[A-Za-z0-9-]+}/*", gateway);

  app.onError(renderError);
  app.notFound(renderNotFound);
  return app;
}
