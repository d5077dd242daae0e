// The API gateway's model (`wsk api`, the openwhisk client's `routes`): one
// Swagger 2.0 document per tenant and base path, built, merged and pruned
// as OpenWhisk's route management builds them. Serving them: api-routing.ts.

/** One operation under a path: what route management writes, or what a user's swagger holds. */
export interface ApiOperation {
  operationId?: string;
  parameters?: unknown[];
  "x-openwhisk"?: { url?: string; namespace?: string; package?: string; action?: string };
  [field: string]: unknown;
}

export interface GatewayCase {
  operations?: string[];
  execute?: { invoke?: { "target-url"?: string; verb?: string }; "set-variable"?: { actions?: { set?: string; value?: unknown }[] } }[];
}

export interface ApiDocument {
  swagger: string;
  info: { title: string; version: string; [field: string]: unknown };
  basePath: string;
  paths: Record<string, Record<string, ApiOperation | unknown[]>>;
  "x-ibm-configuration"?: {
    assembly?: { execute?: { "operation-switch"?: { case?: GatewayCase[] } }[] };
    cors?: { enabled?: boolean };
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

/** An API as a tenant keeps it. */
export interface StoredApi {
  /** The uuid of the auth key that made it (OpenWhisk's gateway tenant). */
  tenant: string;
  /** The base path without leading or trailing `/` ("" for `/`): how the gateway addresses it. */
  key: string;
  doc: ApiDocument;
  /** Store revision, for updates that must not lose a concurrent one. */
  rev: number;
}

export class ApiError extends Error {}

/** How the gateway addresses a base path: no leading or trailing `/`. */
export function apiKey(basePath: string): string {
  return basePath.replace(/^\/+/, "").replace(/\/+$/, "");
}

/** The base URL of an API on this gateway; routes are `url + relpath`. */
export function managedUrl(origin: string, tenant: string, basePath: string): string {
  const key = apiKey(basePath);
  return `${origin}/api/${tenant}${key ? `/${key}` : ""}`;
}

/** A value without a leading `/` names an API by its title rather than its base path. */
export function findApis(apis: StoredApi[], basePathOrName: string): StoredApi[] {
  if (!basePathOrName.startsWith("/")) return apis.filter((api) => api.doc.info?.title === basePathOrName);
  const key = apiKey(basePathOrName);
  return apis.filter((api) => api.key === key);
}

export function newApiDocument(basePath: string, apiName?: string): ApiDocument {
  return {
    swagger: "2.0",
    info: { title: apiName || basePath, version: "1.0.0" },
    basePath,
    paths: {},
    "x-ibm-configuration": { assembly: {}, cors: { enabled: true } },
  };
}

/** Lower-case method, then the path's words capitalised: GET /books/{id} → getBooksId. */
export function operationIdOf(method: string, relpath: string): string {
  const words = relpath.replace(/[^0-9a-zA-Z_-]/g, " ").match(/\w\S*/g) ?? [];
  return method.toLowerCase() + words.map((w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase()).join("");
}

const BACKEND_URL = /^(\w+):\/\/([:/\w.-]+)\/api\/v\d\/web\/([@\w .-]+)\/([@\w .-]+)\/([@\w .\-/]+)\.(\w+)/;

/** `a`, `pkg/a` or `/ns/pkg/a` → package and action. */
function splitActionName(name: string): { pkg: string; action: string } {
  const parts = name.split("/");
  if (name.startsWith("/")) return parts.length > 3 ? { pkg: parts[2], action: parts[3] } : { pkg: "", action: parts[2] ?? "" };
  return parts.length > 1 ? { pkg: parts[0], action: parts[1] } : { pkg: "", action: parts[0] };
}

export interface RouteAction {
  name: string;
  namespace: string;
  backendUrl: string;
  secureKey?: unknown;
}

export interface Route {
  relpath: string;
  method: string;
  action: RouteAction;
  pathParameters?: unknown[];
  responseType: string;
}

function gatewayCases(doc: ApiDocument): GatewayCase[] {
  const config = (doc["x-ibm-configuration"] ??= {});
  const assembly = (config.assembly ??= {});
  const execute = (assembly.execute ??= [{}]);
  const operationSwitch = (execute[0]["operation-switch"] ??= {});
  return (operationSwitch.case ??= []);
}

/** Adds the route's operation to the document, replacing one of the same path and method. */
export function addRoute(doc: ApiDocument, route: Route): void {
  const backend = BACKEND_URL.exec(route.action.backendUrl);
  if (!backend) throw new ApiError(`API swagger generation error: '${route.action.backendUrl}' is not the URL of a web action`);
  const [, protocol, host] = backend;
  const { pkg, action } = splitActionName(route.action.name);
  const method = route.method.toLowerCase();
  const operationId = operationIdOf(method, route.relpath);
  const url = `${protocol}://${host}/api/v1/web/${route.action.namespace}/${pkg || "default"}/${action}.${route.responseType}`;
  const operation: ApiOperation = {
    operationId,
    ...(route.pathParameters ? { parameters: route.pathParameters } : {}),
    "x-openwhisk": { url, namespace: route.action.namespace, package: pkg, action },
    responses: { default: { description: "Default response" } },
  };
  (doc.paths[route.relpath] ??= {})[method] = operation;

  const cases = gatewayCases(doc);
  let entry = cases.find((c) => c.operations?.[0] === operationId);
  if (!entry) cases.push((entry = {}));
  entry.operations = [operationId];
  entry.execute ??= [];
  entry.execute[0] = { invoke: { "target-url": route.responseType === "http" ? `${url}$(request.path)` : url, verb: "keep" } };
  if (route.action.secureKey) {
    entry.execute[1] = { "set-variable": { actions: [{ set: "message.headers.X-Require-Whisk-Auth", value: route.action.secureKey }] } };
  }
}

const PATH_PARAMETER = /\{([^/}]+)\}/g;

function operationsOf(pathItem: Record<string, ApiOperation | unknown[]>): [string, ApiOperation][] {
  return Object.entries(pathItem).filter((entry): entry is [string, ApiOperation] => entry[0] !== "parameters");
}

export function caseFor(doc: ApiDocument, operationId: string | undefined): GatewayCase | undefined {
  const cases = doc["x-ibm-configuration"]?.assembly?.execute?.[0]?.["operation-switch"]?.case;
  return operationId === undefined ? undefined : cases?.find((c) => c.operations?.[0] === operationId);
}

const declaresParameter = (parameters: unknown, name: string) =>
  Array.isArray(parameters) && parameters.some((p) => (p as { name?: unknown })?.name === name);

/** Path parameters reach an action only through `.http` and the request path, as the gateway passes them. */
export function checkPathParameters(doc: ApiDocument): void {
  if (/\/\{[^/]+\}(\/|$)/.test(doc.basePath)) {
    throw new ApiError(`The base path (${doc.basePath}) cannot have parameters. Only the relative path supports path parameters.`);
  }
  for (const [path, item] of Object.entries(doc.paths)) {
    const names = [...path.matchAll(PATH_PARAMETER)].map((m) => m[1]);
    if (names.length === 0) continue;
    for (const [, operation] of operationsOf(item)) {
      const url = operation["x-openwhisk"]?.url;
      if (url !== undefined && !url.endsWith(".http")) {
        throw new ApiError("The action must use a response type of '.http' in order to receive the path parameters.");
      }
      const target = caseFor(doc, operation.operationId)?.execute?.[0]?.invoke?.["target-url"];
      if (target !== undefined && !target.endsWith(".http$(request.path)")) {
        throw new ApiError(
          `The target-url for operationId '${operation.operationId}' must end in '$(request.path)' in order for actions to receive the path parameters.`,
        );
      }
      for (const name of names) {
        if (!declaresParameter(item.parameters, name) && !declaresParameter(operation.parameters, name)) {
          throw new ApiError(
            `The parameter '${name}' defined in path '${path}' does not match any of the parameters defined for the path in the swagger file.`,
          );
        }
      }
    }
  }
}

/** Removes a path, or one operation of it; answers whether anything is left of the API. */
export function removeRoute(doc: ApiDocument, relpath: string, operation?: string): boolean {
  const item = doc.paths[relpath];
  if (!item) throw new ApiError(`path '${relpath}' does not exist in the API`);
  const removed = operation ? [operation] : operationsOf(item).map(([verb]) => verb);
  if (operation && !(operation in item)) throw new ApiError(`path '${relpath}' with operation '${operation}' does not exist in the API`);
  const cases = doc["x-ibm-configuration"]?.assembly?.execute?.[0]?.["operation-switch"]?.case;
  for (const verb of removed) {
    const operationId = (item[verb] as ApiOperation).operationId;
    if (cases) cases.splice(0, cases.length, ...cases.filter((c) => c.operations?.[0] !== operationId));
    delete item[verb];
  }
  if (operationsOf(item).length === 0) delete doc.paths[relpath];
  return Object.keys(doc.paths).length > 0;
}

/** What a createApi request asks for: a route to add, or a whole swagger document. */
export type ApiChange =
  | { kind: "route"; basePath: string; apiName?: string; route: Route }
  | { kind: "swagger"; basePath: string; doc: ApiDocument };

function objectOrJson(value: unknown, field: string, parseError: string, typeError: string): Record<string, unknown> {
  if (typeof value === "string") {
    try {
      const parsed: unknown = JSON.parse(value);
      if (parsed && typeof parsed === "object") return parsed as Record<string, unknown>;
    } catch {
      // reported below
    }
    throw new ApiError(parseError);
  }
  if (value && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
  throw new ApiError(typeError.replace("<type>", typeof value).replace("<field>", field));
}

function required(record: Record<string, unknown>, field: string, message: string): unknown {
  const value = record[field];
  if (value === undefined || value === null || value === "") throw new ApiError(message);
  return value;
}

/**
 * Reads createApi's `apidoc` (an object or a JSON string) as route management
 * does, in the same order and with the same messages; `_` as the action's
 * namespace becomes the caller's.
 */
export function readApiChange(apidocParam: unknown, namespace: string, responseType: string | undefined): ApiChange {
  if (apidocParam === undefined || apidocParam === null || apidocParam === "") throw new ApiError("apidoc is required.");
  const apidoc = objectOrJson(
    apidocParam,
    "apidoc",
    "apidoc field cannot be parsed. Ensure it is valid JSON.",
    "apidoc field is of type <type> and should be a JSON object or a JSON string.",
  );
  required(apidoc, "namespace", "apidoc is missing the namespace field");
  if (apidoc.swagger !== undefined) {
    if (apidoc.gatewayBasePath !== undefined) {
      throw new ApiError("swagger and gatewayBasePath are mutually exclusive and cannot be specified together.");
    }
    const swagger = objectOrJson(
      apidoc.swagger,
      "swagger",
      "swagger field cannot be parsed. Ensure it is valid JSON.",
      "swagger field is <type> and should be an object or a JSON string.",
    );
    required(swagger, "basePath", "swagger is missing the basePath field.");
    required(swagger, "paths", "swagger is missing the paths field.");
    required(swagger, "info", "swagger is missing the info field.");
    const doc = swagger as unknown as ApiDocument;
    return { kind: "swagger", basePath: doc.basePath, doc };
  }
  const basePath = String(required(apidoc, "gatewayBasePath", "apidoc is missing the gatewayBasePath field"));
  const relpath = String(required(apidoc, "gatewayPath", "apidoc is missing the gatewayPath field"));
  const method = String(required(apidoc, "gatewayMethod", "apidoc is missing the gatewayMethod field"));
  const action = required(apidoc, "action", "apidoc is missing the action field.") as Record<string, unknown>;
  required(action, "backendMethod", "action is missing the backendMethod field.");
  let backendUrl = String(required(action, "backendUrl", "action is missing the backendUrl field."));
  let actionNamespace = String(required(action, "namespace", "action is missing the namespace field."));
  const name = String(required(action, "name", "action is missing the name field."));
  required(action, "authkey", "action is missing the authkey field.");
  if (actionNamespace === "_") {
    actionNamespace = namespace;
    backendUrl = backendUrl.replace(/\/api\/v1\/web\/([\w@.-]+)\//, `/api/v1/web/${namespace}/`);
  }
  return {
    kind: "route",
    basePath,
    ...(typeof apidoc.apiName === "string" && apidoc.apiName ? { apiName: apidoc.apiName } : {}),
    route: {
      relpath,
      method,
      action: { name, namespace: actionNamespace, backendUrl, ...(action.secureKey ? { secureKey: action.secureKey } : {}) },
      ...(Array.isArray(apidoc.pathParameters) ? { pathParameters: apidoc.pathParameters } : {}),
      responseType: responseType || "json",
    },
  };
}

/** The document a change leaves: a swagger replaces the API, a route merges into it. */
export function applyApiChange(existing: ApiDocument | undefined, change: ApiChange): ApiDocument {
  if (change.kind === "swagger") return structuredClone(change.doc);
  const doc = existing ? structuredClone(existing) : newApiDocument(change.basePath, change.apiName);
  addRoute(doc, change.route);
  return doc;
}

/** What createApi answers and getApi lists for each API. */
export function apiDescription(api: Pick<StoredApi, "tenant" | "doc">, origin: string) {
  return {
    namespace: "Not Used",
    gwApiActivated: true,
    tenantId: "Not Used",
    gwApiUrl: managedUrl(origin, api.tenant, api.doc.basePath),
    apidoc: api.doc,
  };
}
