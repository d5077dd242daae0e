// /api/v1/api-docs: a Swagger 2.0 description of this REST API, and
// /api/v1/docs: Swagger UI over it, where OpenWhisk's controller serves its own.
import { Hono } from "hono";
import { DOCS_CSP, securityHeaders } from "../console/routes.js";
import { LIMITS } from "../core/limits.js";
import type { ApiEnv } from "./context.js";

const ref = (name: string) => ({ $ref: `#/definitions/${name}` });
const arrayOf = (items: object) => ({ type: "array", items });
const text = { type: "string" };
const integer = { type: "integer" };
const boolean = { type: "boolean" };
const anyObject = { type: "object" };

const pathParam = (name: string, description: string) => ({ name, in: "path", description, required: true, type: "string" });
const queryParam = (name: string, type: string, description: string) => ({ name, in: "query", description, required: false, type });
const bodyParam = (schema: object, description: string, required = true) => ({ name: "body", in: "body", description, required, schema });

const NAMESPACE = pathParam("namespace", "The entity namespace; _ for the caller's own");
const LIST = [
  queryParam("limit", "integer", `Number of entities to include in the result (0-${LIMITS.list.max}; 0 means the maximum)`),
  queryParam("skip", "integer", "Number of entities to skip in the result"),
  queryParam("count", "boolean", "Answer the number of entities instead of a page of them"),
];

const errors = {
  401: { description: "Unauthorized request", schema: ref("ErrorMessage") },
  403: { description: "Unauthorized request", schema: ref("ErrorMessage") },
  404: { description: "Item not found", schema: ref("ErrorMessage") },
  500: { description: "Server error", schema: ref("ErrorMessage") },
};
const ok = (description: string, schema: object) => ({ 200: { description, schema }, ...errors });

function entityPaths(collection: "actions" | "packages" | "triggers" | "rules", noun: string, brief: string, put: string, full: string) {
  const id = `${noun}Name`;
  const name = pathParam(id, `Name of the ${noun}`);
  const tag = collection.charAt(0).toUpperCase() + collection.slice(1);
  return {
    [`/namespaces/{namespace}/${collection}`]: {
      get: { tags: [tag], summary: `Get all ${collection}`, operationId: `getAll${tag}`, parameters: [NAMESPACE, ...LIST], responses: ok(`${tag} response`, arrayOf(ref(brief))) },
    },
    [`/namespaces/{namespace}/${collection}/{${id}}`]: {
      get: { tags: [tag], summary: `Get ${noun} information`, operationId: `get${noun}ByName`, parameters: [NAMESPACE, name], responses: ok(`Returned ${noun}`, ref(full)) },
      put: {
        tags: [tag],
        summary: `Create or update a ${noun}`,
        operationId: `update${noun}`,
        parameters: [NAMESPACE, name, bodyParam(ref(put), `The ${noun} being updated`), queryParam("overwrite", "boolean", `Overwrite the ${noun} if it exists`)],
        responses: { ...ok(`Updated ${noun}`, ref(full)), 400: { description: "Bad request", schema: ref("ErrorMessage") }, 409: { description: "Conflicting item already exists", schema: ref("ErrorMessage") }, 413: { description: "Request entity too large", schema: ref("ErrorMessage") } },
      },
      delete: { tags: [tag], summary: `Delete a ${noun}`, operationId: `delete${noun}`, parameters: [NAMESPACE, name], responses: ok(`Deleted ${noun}`, ref(full)) },
    },
  };
}

const INVOKE = {
  tags: ["Actions"],
  summary: "Invoke an action",
  operationId: "invokeAction",
  parameters: [
    bodyParam(anyObject, "The parameters for the action being invoked", false),
    queryParam("blocking", "string", "Blocking or non-blocking invocation (default false)"),
    queryParam("result", "string", "Return only the result of a blocking activation (default false)"),
    queryParam("timeout", "integer", `Milliseconds to wait for a blocking activation (at most ${LIMITS.blockingWaitMs})`),
  ],
  responses: {
    200: { description: "Successful activation", schema: ref("Activation") },
    202: { description: "Accepted activation request", schema: ref("ActivationId") },
    ...errors,
    429: { description: "Too many requests", schema: ref("ErrorMessage") },
    502: { description: "Activation produced an application error", schema: ref("Activation") },
  },
};

const keyValues = arrayOf(ref("KeyValue"));
const definitions = {
  ErrorMessage: { type: "object", required: ["error", "code"], properties: { error: text, code: text } },
  KeyValue: { type: "object", required: ["key", "value"], properties: { key: text, value: {}, init: boolean } },
  EntityBrief: { type: "object", properties: { namespace: text, name: text, version: text, publish: boolean, annotations: keyValues, updated: integer } },
  ActionLimits: { type: "object", properties: { timeout: integer, memory: integer, logs: integer, concurrency: integer } },
  ActionExec: { type: "object", required: ["kind"], properties: { kind: text, code: text, main: text, binary: boolean, components: arrayOf(text) } },
  ActionExecMeta: { type: "object", required: ["kind"], properties: { kind: text, main: text, binary: boolean, components: arrayOf(text) } },
  ActionPut: { type: "object", properties: { exec: ref("ActionExec"), parameters: keyValues, annotations: keyValues, limits: ref("ActionLimits"), version: text, publish: boolean } },
  Action: { type: "object", required: ["namespace", "name", "version", "exec"], properties: { namespace: text, name: text, version: text, publish: boolean, exec: ref("ActionExec"), parameters: keyValues, annotations: keyValues, limits: ref("ActionLimits"), updated: integer } },
  ActionMeta: { type: "object", properties: { namespace: text, name: text, version: text, publish: boolean, exec: ref("ActionExecMeta"), annotations: keyValues, limits: ref("ActionLimits"), updated: integer } },
  PackageBinding: { type: "object", properties: { namespace: text, name: text } },
  PackagePut: { type: "object", properties: { binding: ref("PackageBinding"), parameters: keyValues, annotations: keyValues, publish: boolean, version: text } },
  Package: { type: "object", required: ["namespace", "name", "version"], properties: { namespace: text, name: text, version: text, publish: boolean, binding: ref("PackageBinding"), parameters: keyValues, annotations: keyValues, actions: arrayOf(ref("EntityBrief")), feeds: arrayOf(ref("EntityBrief")), updated: integer } },
  TriggerPut: { type: "object", properties: { parameters: keyValues, annotations: keyValues, publish: boolean, version: text } },
  Trigger: { type: "object", required: ["namespace", "name", "version"], properties: { namespace: text, name: text, version: text, publish: boolean, parameters: keyValues, annotations: keyValues, limits: anyObject, rules: anyObject, updated: integer } },
  TriggerMeta: { type: "object", properties: { namespace: text, name: text, version: text, publish: boolean, annotations: keyValues, updated: integer } },
  PathName: { type: "object", properties: { path: text, name: text } },
  RulePut: { type: "object", required: ["trigger", "action"], properties: { trigger: text, action: text, annotations: keyValues, version: text, publish: boolean } },
  Rule: { type: "object", properties: { namespace: text, name: text, version: text, publish: boolean, status: text, trigger: ref("PathName"), action: ref("PathName"), annotations: keyValues, updated: integer } },
  RuleMeta: { type: "object", properties: { namespace: text, name: text, version: text, publish: boolean, status: text, trigger: ref("PathName"), action: ref("PathName"), updated: integer } },
  RuleStatus: { type: "object", required: ["status"], properties: { status: { type: "string", enum: ["active", "inactive"] } } },
  ActivationId: { type: "object", required: ["activationId"], properties: { activationId: text } },
  ActivationResult: { type: "object", properties: { status: text, statusCode: integer, success: boolean, result: {} } },
  ActivationLogs: { type: "object", properties: { logs: arrayOf(text) } },
  Activation: { type: "object", properties: { namespace: text, name: text, version: text, subject: text, activationId: text, cause: text, start: integer, end: integer, duration: integer, statusCode: integer, response: ref("ActivationResult"), logs: arrayOf(text), annotations: keyValues, publish: boolean } },
  UserLimits: { type: "object", properties: { invocationsPerMinute: integer, concurrentInvocations: integer, firesPerMinute: integer, maxActionMemory: integer, maxActionTimeout: integer } },
};

const ACTIVATION_ID = pathParam("activationid", "Name of the activation");

const FIRE = {
  tags: ["Triggers"],
  summary: "Fire a trigger",
  operationId: "fireTrigger",
  parameters: [NAMESPACE, pathParam("triggerName", "Name of the trigger"), bodyParam(anyObject, "The trigger payload", false)],
  responses: { 202: { description: "Activation id", schema: ref("ActivationId") }, 204: { description: "No active rule" }, ...errors, 429: { description: "Too many requests", schema: ref("ErrorMessage") } },
};

const RULE_STATUS = {
  tags: ["Rules"],
  summary: "Enable or disable a rule",
  operationId: "setState",
  parameters: [NAMESPACE, pathParam("ruleName", "Name of the rule"), bodyParam(ref("RuleStatus"), "The new status")],
  responses: ok("Rule status changed", ref("Rule")),
};

function withPost<T extends Record<string, object>>(paths: T, path: string, post: object): T {
  return { ...paths, [path]: { ...paths[path], post } };
}

const PACKAGE_NAME = pathParam("packageName", "Name of the package");

/** What each action operation is called, and says, for an action inside a package. */
const IN_PACKAGE: Record<string, [operationId: string, summary: string]> = {
  get: ["getActionInPackage", "Get an action in a package"],
  put: ["updateActionInPackage", "Create or update an action in a package"],
  delete: ["deleteActionInPackage", "Delete an action in a package"],
  post: ["invokeActionInPackage", "Invoke an action in a package"],
};

/** The action operations again with the package named before the action: the router takes the same methods at both paths. */
function actionsInPackage(operations: Record<string, { parameters: object[] } | undefined>) {
  return Object.fromEntries(
    Object.entries(operations).flatMap(([method, operation]) => {
      if (!operation) return [];
      const [operationId, summary] = IN_PACKAGE[method];
      return [[method, { ...operation, operationId, summary, parameters: [NAMESPACE, PACKAGE_NAME, ...operation.parameters.slice(1)] }]];
    }),
  );
}

function entityPathsWithPosts() {
  let paths = {
    ...entityPaths("actions", "action", "ActionMeta", "ActionPut", "Action"),
    ...entityPaths("packages", "package", "EntityBrief", "PackagePut", "Package"),
    ...entityPaths("triggers", "trigger", "TriggerMeta", "TriggerPut", "Trigger"),
    ...entityPaths("rules", "rule", "RuleMeta", "RulePut", "Rule"),
  };
  paths = withPost(paths, "/namespaces/{namespace}/actions/{actionName}", { ...INVOKE, parameters: [NAMESPACE, pathParam("actionName", "Name of the action"), ...INVOKE.parameters] });
  paths = withPost(paths, "/namespaces/{namespace}/triggers/{triggerName}", FIRE);
  paths = withPost(paths, "/namespaces/{namespace}/rules/{ruleName}", RULE_STATUS);
  const listActions = paths["/namespaces/{namespace}/actions"].get;
  return {
    ...paths,
    "/namespaces/{namespace}/actions/{packageName}/": {
      get: { ...listActions, summary: "Get all actions in a package", operationId: "getAllActionsInPackage", parameters: [NAMESPACE, PACKAGE_NAME, ...LIST] },
    },
    "/namespaces/{namespace}/actions/{packageName}/{actionName}": actionsInPackage(paths["/namespaces/{namespace}/actions/{actionName}"]),
  };
}

/** The document, for a given host (it names the scheme and host it is served from). */
export function apiDocument(host: string, scheme: string) {
  return {
    swagger: "2.0",
    info: { title: "OpenWhisk REST API", description: "The OpenWhisk REST API as edgewhisk serves it", version: "1.0.0" },
    host,
    schemes: [scheme],
    basePath: "/api/v1",
    produces: ["application/json"],
    securityDefinitions: { basicAuth: { type: "basic", description: "An OpenWhisk key: uuid as user name, key as password" } },
    security: [{ basicAuth: [] }],
    tags: ["Namespaces", "Actions", "Packages", "Triggers", "Rules", "Activations"].map((name) => ({ name })),
    paths: {
      "/namespaces": { get: { tags: ["Namespaces"], summary: "Get all namespaces for the authenticated key", operationId: "getAllNamespaces", responses: ok("Array of namespaces", arrayOf(text)) } },
      "/namespaces/{namespace}/limits": { get: { tags: ["Namespaces"], summary: "Get the limits of a namespace", operationId: "getLimits", parameters: [NAMESPACE], responses: ok("The namespace's limits", ref("UserLimits")) } },
      ...entityPathsWithPosts(),
      "/namespaces/{namespace}/activations": {
        get: {
          tags: ["Activations"],
          summary: "Get activation summaries",
          operationId: "getActivations",
          parameters: [
            NAMESPACE,
            queryParam("name", "string", "Name of the entity, or pkg/name"),
            queryParam("since", "integer", "Only activations started after this time (epoch ms)"),
            queryParam("upto", "integer", "Only activations started before this time (epoch ms)"),
            queryParam("docs", "boolean", "Include the whole activation records"),
            ...LIST,
          ],
          responses: ok("Activations", arrayOf(ref("Activation"))),
        },
      },
      "/namespaces/{namespace}/activations/{activationid}": { get: { tags: ["Activations"], summary: "Get an activation", operationId: "getActivationById", parameters: [NAMESPACE, ACTIVATION_ID], responses: ok("Activation", ref("Activation")) } },
      "/namespaces/{namespace}/activations/{activationid}/logs": { get: { tags: ["Activations"], summary: "Get the logs of an activation", operationId: "getActivationLogs", parameters: [NAMESPACE, ACTIVATION_ID], responses: ok("Logs", ref("ActivationLogs")) } },
      "/namespaces/{namespace}/activations/{activationid}/result": { get: { tags: ["Activations"], summary: "Get the result of an activation", operationId: "getActivationResult", parameters: [NAMESPACE, ACTIVATION_ID], responses: ok("Result", ref("ActivationResult")) } },
      "/web/{namespace}/{packageName}/{actionName}.{extension}": {
        get: {
          tags: ["Actions"],
          summary: "Run a web action",
          operationId: "runWebAction",
          security: [],
          parameters: [NAMESPACE, pathParam("packageName", "Name of the package, or default"), pathParam("actionName", "Name of the action"), pathParam("extension", "json, html, http, svg or text")],
          responses: { 200: { description: "The action's response" }, 404: errors[404] },
        },
      },
    },
    definitions,
  };
}

/** Swagger UI's page: its files (src/console/routes.ts) come from the npm swagger-ui-dist package, never a CDN, and its script starts it over `?url=`. */
const SWAGGER_PAGE = `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Swagger UI</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/api/v1/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/api/v1/docs/swagger-ui-bundle.js"></script>
  <script src="/api/v1/docs/swagger-initializer.js"></script>
</body>
</html>
`;

export const apiDocsRoutes = new Hono<ApiEnv>()
  .get("/api/v1/api-docs", (c) => {
    const url = new URL(c.req.url);
    return c.json(apiDocument(url.host, url.protocol.replace(":", "")));
  })
  .get("/api/v1/docs", (c) => c.redirect("/api/v1/docs/index.html?url=/api/v1/api-docs", 308))
  .get("/api/v1/docs/index.html", (c) => c.html(SWAGGER_PAGE, 200, securityHeaders(DOCS_CSP)));
