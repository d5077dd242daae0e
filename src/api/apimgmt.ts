// /api/v1/web/whisk.system/apimgmt/{createApi,getApi,deleteApi}[.http]: the
// route management web actions `wsk api` and the openwhisk client's
// `routes` call. Served here rather than as actions: they only read and
// write the caller's gateway APIs. Answers keep the actions' shapes: 200
// with the result, 502 `{"error": ...}` for any failure.
//
// The tenant is the uuid of the caller's key, which is what the CLI sends as
// `spaceguid`; the parameter itself is not trusted.
import { Hono } from "hono";
import {
  ApiError,
  apiDescription,
  apiKey,
  applyApiChange,
  checkPathParameters,
  findApis,
  readApiChange,
  removeRoute,
  type ApiDocument,
  type StoredApi,
} from "../core/apis.js";
import { WEB_CORS, webArguments } from "../core/webaction.js";
import type { Identity } from "../ports/identity.js";
import type { Store } from "../ports/store.js";
import { identify } from "./auth.js";
import type { ApiContext, ApiEnv } from "./context.js";
import { readWebRequest } from "./web.js";

/** Attempts at a read-modify-write of an API before giving up on concurrent changes. */
const SAVE_ATTEMPTS = 5;

/** The actions' arguments: query and JSON or form body merged, as for any web action. */
async function managementParams(c: ApiContext): Promise<Record<string, unknown>> {
  return webArguments(await readWebRequest(c.req.raw, ""), false, undefined, new Set());
}

const text = (value: unknown): string | undefined => (value === undefined || value === null || value === "" ? undefined : String(value));

async function createApi(store: Store, identity: Identity, params: Record<string, unknown>, origin: string) {
  const change = readApiChange(params.apidoc, identity.namespace, text(params.responsetype));
  const key = apiKey(change.basePath);
  for (let attempt = 0; attempt < SAVE_ATTEMPTS; attempt++) {
    const existing: StoredApi | undefined = findApis(await store.listApis(identity.uuid), change.basePath)[0];
    let doc: ApiDocument;
    try {
      doc = applyApiChange(existing?.doc, change);
      checkPathParameters(doc);
    } catch (err) {
      if (err instanceof ApiError) throw new ApiError(`API creation failure: ${err.message}`);
      throw err;
    }
    const api = { tenant: identity.uuid, key: existing?.key ?? key, doc };
    if (await store.saveApi(api, existing?.rev)) return apiDescription(api, origin);
  }
  throw new ApiError("API creation failure: the API was changed concurrently; try again");
}

async function getApi(store: Store, identity: Identity, params: Record<string, unknown>, origin: string) {
  const outputFormat = text(params.outputFormat);
  if (outputFormat !== undefined && outputFormat !== "apigw" && outputFormat !== "swagger") {
    throw new ApiError("Invalid outputFormat value. Valid values are: apigw, swagger");
  }
  const basePath = text(params.basepath);
  let apis = await store.listApis(identity.uuid);
  if (basePath !== undefined) apis = findApis(apis, basePath);
  const skip = Number(text(params.skip) ?? 0) || 0;
  const limit = text(params.limit) === undefined ? undefined : Number(params.limit);
  apis = apis.slice(Math.max(0, skip));
  if (limit !== undefined && !Number.isNaN(limit)) apis = limit < 1 ? [] : apis.slice(0, limit);
  return { apis: apis.map((api) => ({ id: "Not Used", key: "Not Used", value: apiDescription(api, origin) })) };
}

async function deleteApi(store: Store, identity: Identity, params: Record<string, unknown>) {
  const basePath = text(params.basepath);
  if (basePath === undefined) throw new ApiError("basepath is required.");
  const relpath = text(params.relpath);
  const operation = text(params.operation)?.toLowerCase();
  if (operation !== undefined && relpath === undefined) throw new ApiError("When specifying an operation, the path is required.");
  for (let attempt = 0; attempt < SAVE_ATTEMPTS; attempt++) {
    const api = findApis(await store.listApis(identity.uuid), basePath)[0];
    if (!api) throw new ApiError(`API deletion failure: API '${basePath}' does not exist.`);
    let remains = false;
    const doc = structuredClone(api.doc);
    if (relpath !== undefined) {
      try {
        remains = removeRoute(doc, relpath, operation);
      } catch (err) {
        if (err instanceof ApiError) throw new ApiError(`API deletion failure: ${err.message}`);
        throw err;
      }
    }
    const done = remains ? await store.saveApi({ tenant: api.tenant, key: api.key, doc }, api.rev) : await store.deleteApi(api.tenant, api.key, api.rev);
    if (done) return {};
  }
  throw new ApiError("API deletion failure: the API was changed concurrently; try again");
}

interface Operation {
  /** What the action answers a caller without a valid key. */
  unauthenticated: string;
  run(store: Store, identity: Identity, params: Record<string, unknown>, origin: string): Promise<object>;
}

const OPERATIONS: Record<string, Operation> = {
  createApi: { unauthenticated: "A valid auth key is required.", run: createApi },
  getApi: { unauthenticated: "Invalid authentication.", run: getApi },
  deleteApi: { unauthenticated: "Invalid authentication.", run: deleteApi },
};

async function handle(c: ApiContext) {
  if (c.req.method === "OPTIONS") return c.body(null, 200, WEB_CORS);
  const operation = OPERATIONS[(c.req.param("operation") ?? "").replace(/\.(http|json)$/, "")];
  if (!operation) return c.notFound();
  const params = await managementParams(c);
  const platform = c.get("platform");
  const answer = (status: 200 | 502, body: object) => c.json(body, status, WEB_CORS);
  try {
    const identity = await identify(platform, c.req.header("authorization"));
    if (!identity) throw new ApiError(operation.unauthenticated);
    return answer(200, await operation.run(platform.store, identity, params, new URL(c.req.url).origin));
  } catch (err) {
    if (err instanceof ApiError) return answer(502, { error: err.message });
    throw err;
  }
}

export const apiManagementRoutes = new Hono<ApiEnv>().all("/:operation{(createApi|getApi|deleteApi)(\\.(http|json))?}", handle);
