// Driving the real Worker (D1, Queues, invoker DOs, Worker Loader) from tests.
import { env, exports } from "cloudflare:workers";
import { seedSubject } from "../../src/store/seed.js";
import { SqlStore } from "../../src/store/sql-store.js";
import { D1Sql } from "../../src/cloudflare/d1.js";

export const GUEST_KEY = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP";
export const OTHER_KEY = "5a1b2c3d-0000-4000-8000-000000000002:otherKey0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU";

export const store = () => new SqlStore(new D1Sql(env.DB));

export async function seedNamespaces(): Promise<void> {
  await seedSubject(store(), GUEST_KEY, "guest");
  await seedSubject(store(), OTHER_KEY, "other");
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

/** A raw request to the Worker, for reading bodies as bytes. */
export function fetchWorker(path: string, init?: RequestInit): Promise<Response> {
  return (exports as unknown as { default: Fetcher }).default.fetch(new Request(`http://edgewhisk.test${path}`, init));
}

export async function call(
  method: string,
  path: string,
  options: { body?: unknown; raw?: string; auth?: string | null; headers?: Record<string, string> } = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...options.headers };
  const auth = options.auth === undefined ? GUEST_KEY : options.auth;
  if (auth) headers.authorization = `Basic ${btoa(auth)}`;
  let body: string | undefined;
  if (options.raw !== undefined) body = options.raw;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  const response = await (exports as unknown as { default: Fetcher }).default.fetch(new Request(`http://edgewhisk.test${path}`, { method, headers, body }));
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}

export const HELLO_JS = `function main(params) {
  var name = params.name || "World";
  return { payload: "Hello, " + name + "!" };
}`;

export async function createAction(name: string, code: string, extra: Record<string, unknown> = {}, auth?: string) {
  const res = await call("PUT", `/api/v1/namespaces/_/actions/${name}`, {
    body: { exec: { kind: "nodejs:default", code }, ...extra },
    auth,
  });
  if (res.status !== 200) throw new Error(`create ${name}: ${res.status} ${res.text}`);
  return res.body;
}

/** Polls until the activation record exists. */
export async function waitForActivation(id: string, auth?: string, timeoutMs = 10_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await call("GET", `/api/v1/namespaces/_/activations/${id}`, { auth });
    if (res.status === 200) return res.body;
    if (Date.now() > deadline) throw new Error(`activation ${id} not recorded: ${res.status} ${res.text}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
