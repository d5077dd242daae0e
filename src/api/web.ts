// /api/v1/web/{namespace}/{package|default}/{action}[.ext][/path]: web
// actions, reachable without an API key. The action's invoker decides what
// the request may do (it holds the action's annotations) and charges the
// owner's rate limit and concurrent places only once the action is found
// and web-exported; this route reads the request and renders the
// activation as OpenWhisk renders it.
import { Hono } from "hono";
import { newActivationId, type ActivationRecord } from "../core/activation.js";
import { base64ToBytes, bytesToBase64 } from "../core/base64.js";
import { Messages, WhiskError, notFound } from "../core/errors.js";
import { LIMITS } from "../core/limits.js";
import { parseWebPath, WEB_CORS, WEB_METHODS, webResponse, type WebExtension, type WebRequest, type WebResponse } from "../core/webaction.js";
import { identify } from "./auth.js";
import { ACTIVATION_ID_HEADER, actionApiHost, type ApiContext, type ApiEnv } from "./context.js";
import { methodNotAllowed } from "./errors.js";
import { waitFor } from "./wait.js";

const PREFIX = "/api/v1/web/";
const encoder = new TextEncoder();

function corsHeaders(request: Request): Record<string, string> {
  const requested = request.headers.get("access-control-request-headers");
  return requested ? { ...WEB_CORS, "Access-Control-Allow-Headers": requested } : WEB_CORS;
}


/** Successes and application errors (their `error` field) are rendered; other failures are not the caller's to see. */
function render(record: ActivationRecord, extension: WebExtension, head: boolean): Response {
  const { response } = record;
  if (response.statusCode !== 0 && response.statusCode !== 1) throw new WhiskError(400, Messages.errorProcessingRequest);
  const result = response.statusCode === 1 ? (response.result as Record<string, unknown>)?.error : response.result;
  if (result === undefined) throw new WhiskError(404, Messages.propertyNotFound);
  const web = webResponse(result, extension);
  return new Response(head ? null : responseBody(web.body), { status: web.status, headers: web.headers });
}

/** The bytes to send: text is encoded as it is (no base64 on the way), only an action's base64 body is decoded. */
function responseBody(body: WebResponse["body"]): Uint8Array | null {
  if (body === null) return null;
  return "text" in body ? encoder.encode(body.text) : base64ToBytes(body.base64);
}

/** A web request as actions see it (within the parameter size limit); `path` is what follows the action. */
export async function readWebRequest(request: Request, path: string): Promise<WebRequest> {
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.length > LIMITS.parametersBytes) {
    throw new WhiskError(413, Messages.entityTooBig("Request", bytes.length, LIMITS.parametersBytes));
  }
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => (headers[name.toLowerCase()] = value));
  return {
    method: request.method.toUpperCase(),
    headers,
    path,
    query: new URL(request.url).search.replace(/^\?/, ""),
    ...(bytes.length ? { body: { contentType: headers["content-type"] ?? "", base64: bytesToBase64(bytes) } } : {}),
  };
}

/** Serves a web action request; the API gateway hands in the requests it forwards. */
export async function serveWebRequest(c: ApiContext, request: Request): Promise<Response> {
  const method = request.method.toUpperCase();
  if (!WEB_METHODS.has(method)) throw methodNotAllowed([...WEB_METHODS]);
  const url = new URL(request.url);
  const target = url.pathname.startsWith(PREFIX) ? parseWebPath(url.pathname.slice(PREFIX.length)) : undefined;
  if (!target) throw notFound();
  const platform = c.get("platform");
  const user = await identify(platform, request.headers.get("authorization") ?? undefined);

  const web = await readWebRequest(request, target.path);
  const activationId = newActivationId();

  const pending = platform.invokers
    .invokeWeb({
      activationId,
      transactionId: c.get("transactionId"),
      action: { namespace: target.namespace, ...(target.packageName ? { packageName: target.packageName } : {}), name: target.name },
      web,
      ...(user ? { user } : {}),
      receivedAt: Date.now(),
      apiHost: actionApiHost(c),
    })
    .catch((err) => {
      // The executor gives back a place it took (its errors are WhiskErrors); if no invoker answered, this does.
      if (!(err instanceof WhiskError)) {
        const release = platform.concurrency.release(target.namespace, activationId);
        platform.defer(release.catch((cause) => console.error(`web activation ${activationId}: releasing its place failed:`, cause)));
      }
      throw err;
    });
  const outcome = await waitFor(pending, LIMITS.blockingWaitMs);
  if (!outcome) {
    platform.defer(pending.catch((err) => console.error(`web activation ${activationId} failed late:`, err)));
    c.header(ACTIVATION_ID_HEADER, activationId);
    throw new WhiskError(202, Messages.responseNotReady);
  }
  if (outcome.kind === "options") return c.body(null, 200, corsHeaders(request));
  const cors = outcome.customOptions ? {} : corsHeaders(request);
  try {
    const response = render(outcome.record, target.extension, method === "HEAD");
    for (const [name, value] of Object.entries(cors)) response.headers.set(name, value);
    response.headers.set(ACTIVATION_ID_HEADER, outcome.record.activationId);
    return response;
  } catch (err) {
    if (err instanceof WhiskError) {
      throw new WhiskError(err.status, err.message, { ...cors, [ACTIVATION_ID_HEADER]: outcome.record.activationId });
    }
    throw err;
  }
}

export const webRoutes = new Hono<ApiEnv>().all("/*", (c) => serveWebRequest(c, c.req.raw));
