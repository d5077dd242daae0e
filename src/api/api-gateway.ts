// /api/{tenant}/{basepath}/{relpath}: the routes of the API gateway (`wsk
// api create`), forwarded to the web actions behind them as OpenWhisk's
// gateway forwards them: same method, query, body and headers, plus
// X-Forwarded-Url and the route's X-Require-Whisk-Auth secret.
import type { Context } from "hono";
import { matchGatewayRequest } from "../core/api-routing.js";
import type { ApiContext, ApiEnv } from "./context.js";
import { serveWebRequest } from "./web.js";

const GATEWAY_METHODS = "GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS";

function gatewayError(c: ApiContext, message: string) {
  return c.json({ status: 404, message }, 404);
}

function withCors(response: Response, request: Request): Response {
  const answer = new Response(response.body, response);
  answer.headers.set("Access-Control-Allow-Origin", request.headers.get("origin") ?? "*");
  answer.headers.set("Access-Control-Allow-Methods", GATEWAY_METHODS);
  answer.headers.set("Access-Control-Allow-Credentials", "true");
  const requested = request.headers.get("access-control-request-headers");
  if (requested) answer.headers.set("Access-Control-Allow-Headers", requested);
  return answer;
}

export async function serveGatewayRoute(c: Context<ApiEnv>): Promise<Response> {
  const tenant = c.req.param("tenant")!;
  const url = new URL(c.req.url);
  const path = url.pathname.slice(`/api/${tenant}`.length);
  const apis = await c.get("platform").store.listApis(tenant);
  const match = matchGatewayRequest(apis, path, c.req.method);
  if (match.kind === "not found") return gatewayError(c, "Error: Not found.");
  if (match.kind === "verb not supported") return gatewayError(c, "Error: Whoops. Verb not supported.");
  const request = c.req.raw;
  if (match.kind === "preflight") return withCors(new Response(null, { status: 200 }), request);

  const headers = new Headers(request.headers);
  headers.set("X-Forwarded-Url", url.href);
  if (match.secureKey !== undefined) headers.set("X-Require-Whisk-Auth", match.secureKey);
  const forwarded = new Request(`${url.origin}${match.backendPath}${url.search}`, {
    method: request.method,
    headers,
    body: request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer(),
  });
  const response = await serveWebRequest(c, forwarded);
  return match.api.doc["x-ibm-configuration"]?.cors?.enabled === false ? response : withCors(response, request);
}
