// Serving the API gateway: which operation of a tenant's APIs a request
// reaches, matched as OpenWhisk's gateway matches resources, and the web
// action path it is forwarded to.
import { caseFor, type ApiDocument, type ApiOperation, type GatewayCase, type StoredApi } from "./apis.js";

/** What a gateway request resolves to. */
export type GatewayMatch =
  | { kind: "not found" }
  | { kind: "verb not supported" }
  | { kind: "preflight"; api: StoredApi }
  | {
      kind: "route";
      api: StoredApi;
      /** The web action path (`/api/v1/web/...`) to call, with what follows it. */
      backendPath: string;
      secureKey?: string;
    };

const segmentsOf = (path: string) => path.split("/").filter(Boolean);

/** The document path serving `segments`: exact first, then templates with as many segments. */
function matchPath(doc: ApiDocument, segments: string[]): string | undefined {
  const exact = `/${segments.join("/")}`;
  for (const candidate of [exact, `${exact}/`]) if (doc.paths[candidate]) return candidate;
  return Object.keys(doc.paths).find((path) => {
    const template = segmentsOf(path);
    return (
      template.length === segments.length &&
      template.every((part, i) => part === segments[i] || (/^\{[^/]+\}$/.test(part) && segments[i] !== ""))
    );
  });
}

function secureKeyOf(gatewayCase: GatewayCase | undefined): string | undefined {
  for (const step of gatewayCase?.execute ?? []) {
    const header = step["set-variable"]?.actions?.find((a) => a.set === "message.headers.X-Require-Whisk-Auth");
    if (header?.value !== undefined) return String(header.value);
  }
  return undefined;
}

/**
 * Finds the operation serving `method` at `path` (what follows `/api/<tenant>`),
 * trying the longest base path first and, as the gateway does, shorter
 * resource paths when nothing matches the whole one.
 */
export function matchGatewayRequest(apis: StoredApi[], path: string, method: string): GatewayMatch {
  const requested = segmentsOf(path);
  const byLongestBase = [...apis].sort((a, b) => segmentsOf(b.key).length - segmentsOf(a.key).length);
  for (const api of byLongestBase) {
    const base = segmentsOf(api.key);
    if (!base.every((part, i) => requested[i] === part)) continue;
    const rest = requested.slice(base.length);
    for (let length = rest.length; length >= 0; length--) {
      const relpath = matchPath(api.doc, rest.slice(0, length));
      if (!relpath) continue;
      const item = api.doc.paths[relpath];
      const verb = method.toLowerCase();
      const operation = item[verb] as ApiOperation | undefined;
      if (!operation || verb === "parameters") {
        if (verb === "options" && api.doc["x-ibm-configuration"]?.cors?.enabled !== false) return { kind: "preflight", api };
        return { kind: "verb not supported" };
      }
      const gatewayCase = caseFor(api.doc, operation.operationId);
      const target = gatewayCase?.execute?.[0]?.invoke?.["target-url"] ?? operation["x-openwhisk"]?.url;
      if (!target) return { kind: "not found" };
      const withRequestPath = target.endsWith("$(request.path)");
      const url = new URL(withRequestPath ? target.slice(0, -"$(request.path)".length) : target);
      const extra = withRequestPath ? requested : rest.slice(length);
      const backendPath = url.pathname + (extra.length ? `/${extra.join("/")}` : "");
      const secureKey = secureKeyOf(gatewayCase);
      return { kind: "route", api, backendPath, ...(secureKey !== undefined ? { secureKey } : {}) };
    }
  }
  return { kind: "not found" };
}
