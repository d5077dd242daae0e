// The console's only way to the platform: the OpenWhisk REST API of the
// origin it was served from, with the signed-in key as Basic auth. A path
// that would leave this origin is refused before any header is attached.
import { storedKey } from "./session.js";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

function sameOriginUrl(path: string): URL {
  const url = new URL(path, location.origin);
  if (url.origin !== location.origin || !path.startsWith("/")) throw new Error(`refusing to send the key to ${url.origin}`);
  return url;
}

/** Calls the API with `key` (the stored one by default); answers the parsed body or throws ApiError with OpenWhisk's message. */
export async function call<T = unknown>(method: string, path: string, body?: unknown, key = storedKey()): Promise<T> {
  const url = sameOriginUrl(path);
  const headers: Record<string, string> = { Accept: "application/json" };
  if (key) headers.Authorization = `Basic ${btoa(key)}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit",
    cache: "no-store",
  });
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  // A blocking invoke that failed in the action answers its record with 502: that is a result, not an error.
  const isRecord = parsed && typeof parsed === "object" && "activationId" in parsed;
  if (!res.ok && !isRecord) {
    const message = parsed && typeof parsed === "object" && "error" in parsed ? String((parsed as { error: unknown }).error) : `${res.status} ${res.statusText}`;
    throw new ApiError(res.status, message, parsed);
  }
  return parsed as T;
}

/** `/api/v1/namespaces/_/<rest>`: the signed-in namespace's collections. */
export const ns = (rest: string) => `/api/v1/namespaces/_/${rest}`;

/** Encodes each segment of an entity path (`pkg/name` keeps its slash). */
export const entityPath = (name: string) => name.split("/").map(encodeURIComponent).join("/");

export const query = (params: Record<string, string | number | boolean | undefined>) => {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== "") as [string, string | number | boolean][];
  return entries.length ? `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)]))}` : "";
};
