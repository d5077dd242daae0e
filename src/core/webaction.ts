// Web actions: the URL grammar, turning an HTTP request into action
// arguments (__ow_* context, query and body, raw or merged) and an action's
// result into an HTTP response per extension, as OpenWhisk's WebActions does.
import { isBinaryCode } from "./actions.js";
import { base64ToText } from "./base64.js";
import { getAnnotation, isTrueAnnotation, type KeyValue } from "./entities.js";
import { Messages, WhiskError } from "./errors.js";
import { parseRequestJson } from "./json.js";
import { isValidEntityName } from "./names.js";

export const WEB_EXTENSIONS = [".http", ".json", ".html", ".svg", ".text"] as const;
export type WebExtension = (typeof WEB_EXTENSIONS)[number];

export const WEB_METHODS = new Set(["GET", "DELETE", "POST", "PUT", "HEAD", "OPTIONS", "PATCH"]);

export const WEB_CORS = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Methods": "OPTIONS, GET, DELETE, POST, PUT, HEAD, PATCH",
  "Access-Control-Allow-Headers": "Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent",
};

export interface WebPath {
  namespace: string;
  /** undefined for the `default` package. */
  packageName?: string;
  name: string;
  extension: WebExtension;
  /** What follows the action (and extension): `__ow_path`. */
  path: string;
}

/** Parses `{ns}/{pkg|default}/{action}[.ext][/more]`; undefined when it names no web action. */
export function parseWebPath(path: string): WebPath | undefined {
  const segments = path.split("/");
  if (segments.length < 3) return undefined;
  const [namespace, pkg, actionSegment, ...rest] = segments.map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
  if (!isValidEntityName(namespace) || !isValidEntityName(pkg) || !actionSegment) return undefined;
  const extension = WEB_EXTENSIONS.find((ext) => actionSegment.endsWith(ext)) ?? ".http";
  const name = actionSegment.endsWith(extension) ? actionSegment.slice(0, -extension.length) : actionSegment;
  if (!isValidEntityName(name)) return undefined;
  return {
    namespace,
    ...(pkg === "default" ? {} : { packageName: pkg }),
    name,
    extension,
    path: rest.length ? `/${rest.join("/")}` : "",
  };
}

/** The request body as it arrived: absent, or its bytes with their content type. */
export interface WebBody {
  contentType: string;
  /** base64 of the bytes (binary-safe across RPC and queues). */
  base64: string;
}

export interface WebRequest {
  method: string;
  /** Lower-cased names. */
  headers: Record<string, string>;
  path: string;
  /** The raw query string, without `?`. */
  query: string;
  body?: WebBody;
}

const JSON_FAMILY = /^application\/(.+\+)?json$/i;
const FORM = /^application\/x-www-form-urlencoded$/i;

function mediaType(contentType: string): string {
  return contentType.split(";")[0].trim().toLowerCase();
}

/** OpenWhisk passes binary bodies (and, for legacy reasons, raw JSON) base64-encoded. */
function isBinaryMedia(type: string): boolean {
  if (type === "application/json") return true;
  if (/^(text\/|application\/(x-www-form-urlencoded|xml|javascript|.*\+xml|.*\+json)$)/.test(type)) return false;
  return /^(image|audio|video|font)\//.test(type) || type.startsWith("application/");
}

/** The body's value for the action: a JSON value for JSON and forms (not raw), else a string. */
function bodyValue(body: WebBody | undefined, raw: boolean): { value: unknown } | undefined {
  if (!body || body.base64 === "") return undefined;
  const type = mediaType(body.contentType);
  if (!raw && JSON_FAMILY.test(type)) {
    const text = base64ToText(body.base64);
    if (text.trim() === "") return undefined;
    return { value: parseRequestJson(text) };
  }
  if (!raw && FORM.test(type)) return { value: Object.fromEntries(new URLSearchParams(base64ToText(body.base64))) };
  return { value: isBinaryMedia(type) ? body.base64 : base64ToText(body.base64) };
}

export const RESERVED_WEB_PARAMS = ["__ow_method", "__ow_headers", "__ow_path", "__ow_user", "__ow_query", "__ow_body"];

/**
 * The action's arguments for a web request. Raw actions get the query and
 * body unparsed as __ow_query and __ow_body; others get the query and a JSON
 * or form body merged in (body winning), unless that would set a reserved or
 * final parameter (400).
 */
export function webArguments(
  request: WebRequest,
  raw: boolean,
  user: string | undefined,
  immutable: Set<string>,
): Record<string, unknown> {
  const context: Record<string, unknown> = {
    __ow_method: request.method.toLowerCase(),
    __ow_headers: request.headers,
    __ow_path: request.path,
    ...(user ? { __ow_user: user } : {}),
  };
  const body = bodyValue(request.body, raw);
  if (raw) return { ...context, __ow_query: request.query, __ow_body: body?.value ?? "" };

  const query = Object.fromEntries(new URLSearchParams(request.query));
  const isObject = body !== undefined && body.value !== null && typeof body.value === "object" && !Array.isArray(body.value);
  const bodyFields: Record<string, unknown> = body === undefined ? {} : isObject ? (body.value as Record<string, unknown>) : { __ow_body: body.value };
  const forbidden = new Set([...RESERVED_WEB_PARAMS, ...immutable]);
  const requested = [...Object.keys(query), ...(isObject ? Object.keys(bodyFields) : [])];
  if (requested.some((key) => forbidden.has(key))) throw new WhiskError(400, Messages.parametersNotAllowed);
  return { ...context, ...query, ...bodyFields };
}

/**
 * `require-whisk-auth`: true needs an authenticated caller; a string or
 * number must equal the X-Require-Whisk-Auth header; false or absent needs
 * nothing.
 */
export function webAuthorized(annotations: readonly KeyValue[], headers: Record<string, string>, authenticated: boolean) {
  const required = getAnnotation(annotations, "require-whisk-auth");
  if (required === undefined || required === false) return true;
  if (required === true) return authenticated;
  if (typeof required === "string" || typeof required === "number") {
    return headers["x-require-whisk-auth"] === String(required);
  }
  return false;
}

export function isWebExported(annotations: readonly KeyValue[]): boolean {
  return isTrueAnnotation(annotations, "web-export");
}

export interface WebResponse {
  status: number;
  headers: [string, string][];
  /** The body as text (sent UTF-8 encoded), as the base64 of its bytes (an action's binary body), or null for none. */
  body: { text: string } | { base64: string } | null;
}

const text = (status: number, contentType: string, body: string): WebResponse => ({
  status,
  headers: [["content-type", contentType]],
  body: { text: body },
});

const invalidMedia = (type: string) => new WhiskError(400, `Response is not valid '${type}'.`);

function field(result: unknown, ...names: string[]): unknown {
  if (result !== null && typeof result === "object" && !Array.isArray(result)) {
    for (const name of names) if (name in (result as object)) return (result as Record<string, unknown>)[name];
    return undefined;
  }
  return result;
}

function headerEntries(value: unknown): [string, string][] {
  if (value === undefined) return [];
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw invalidMedia("message/http");
  const entries: [string, string][] = [];
  const add = (name: string, v: unknown): void => {
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") entries.push([name, String(v)]);
    else if (Array.isArray(v)) v.forEach((item) => add(name, item));
    else throw invalidMedia("message/http");
  };
  for (const [name, v] of Object.entries(value)) add(name, v);
  return entries;
}

function statusOf(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const code = typeof value === "number" ? value : typeof value === "string" && /^-?\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(code) || code < 100 || code > 599) throw invalidMedia("message/http");
  return code;
}

function httpResponse(result: unknown): WebResponse {
  if (result === null || typeof result !== "object" || Array.isArray(result)) throw invalidMedia("message/http");
  const fields = result as Record<string, unknown>;
  const headers = headerEntries(fields.headers);
  const status = statusOf(fields.statusCode);
  const body = fields.body;
  const withoutType = headers.filter(([name]) => name.toLowerCase() !== "content-type");
  const declared = headers.find(([name]) => name.toLowerCase() === "content-type")?.[1];

  if (body === undefined || body === null || body === "") {
    return { status: status ?? 204, headers: withoutType, body: null };
  }
  if (typeof body !== "string") {
    const type = declared ? mediaType(declared) : "application/json";
    if (!JSON_FAMILY.test(type)) throw new WhiskError(400, "Response type in header did not match generated content type.");
    return { status: status ?? 200, headers: [...withoutType, ["content-type", declared ?? "application/json"]], body: { text: JSON.stringify(body) } };
  }
  const type = declared ? mediaType(declared) : "text/html";
  if (!/^[\w.+-]+\/[\w.+-]+$/.test(type)) throw new WhiskError(400, "Response did not specify a known content-type.");
  const contentType = declared ?? "text/html; charset=UTF-8";
  const binary = (JSON_FAMILY.test(type) && isBinaryCode(body)) || (!/^text\//.test(type) && !JSON_FAMILY.test(type) && isBinaryMedia(type));
  if (binary) {
    if (!isBinaryCode(body) && body.trim() !== "") throw new WhiskError(400, "Response type in header did not match generated content type.");
    return { status: status ?? 200, headers: [...withoutType, ["content-type", contentType]], body: { base64: body.trim() } };
  }
  return { status: status ?? 200, headers: [...withoutType, ["content-type", contentType]], body: { text: body } };
}

/** The HTTP response for an action's result under an extension. */
export function webResponse(result: unknown, extension: WebExtension): WebResponse {
  switch (extension) {
    case ".http":
      return httpResponse(result);
    case ".json":
      if (result === null || typeof result !== "object") throw invalidMedia("application/json");
      return text(200, "application/json", JSON.stringify(result));
    case ".html": {
      const html = field(result, "body", "html");
      if (typeof html !== "string") throw invalidMedia("text/html");
      return text(200, "text/html; charset=UTF-8", html);
    }
    case ".svg": {
      const svg = field(result, "body", "svg");
      if (typeof svg !== "string") throw invalidMedia("image/svg+xml");
      return text(200, "image/svg+xml", svg);
    }
    case ".text": {
      const value = field(result, "body", "text");
      if (value === undefined) throw new WhiskError(404, Messages.propertyNotFound);
      const body = typeof value === "string" ? value : value !== null && typeof value === "object" ? JSON.stringify(value, null, 2) : String(value);
      return text(200, "text/plain; charset=UTF-8", body);
    }
  }
}
