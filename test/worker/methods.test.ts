// A wrong method on a path the API serves answers OpenWhisk's 405, naming the
// methods that path takes, for every route family; a path it does not serve
// stays a 404.
import { beforeAll, describe, expect, it } from "vitest";
import { call, seedNamespaces } from "./helpers.js";

beforeAll(seedNamespaces);

const ns = "/api/v1/namespaces/_";
const ENTITY = ["GET", "PUT", "DELETE", "POST"];

/** A request with a JSON body where its method may carry one. */
const send = (method: string, path: string, options: { auth?: null } = {}) => call(method, path, method === "GET" ? options : { ...options, body: {} });

/** [method, path, the methods its 405 names, in the order OpenWhisk lists them] */
const REFUSED: [string, string, string[]][] = [
  ["PUT", "/api/v1/namespaces", ["GET"]],
  ["DELETE", `${ns}/limits`, ["GET"]],
  ["POST", `${ns}/actions`, ["GET"]],
  ["DELETE", `${ns}/actions/pkg/`, ["GET"]],
  ["PATCH", `${ns}/actions/hello`, ENTITY],
  ["PATCH", `${ns}/actions/pkg/hello`, ENTITY],
  ["POST", `${ns}/packages`, ["GET"]],
  ["POST", `${ns}/packages/pkg`, ["GET", "PUT", "DELETE"]],
  ["PUT", `${ns}/triggers`, ["GET"]],
  ["PATCH", `${ns}/triggers/t`, ENTITY],
  ["DELETE", `${ns}/rules`, ["GET"]],
  ["PATCH", `${ns}/rules/r`, ENTITY],
  ["POST", `${ns}/activations`, ["GET"]],
  ["DELETE", `${ns}/activations/0123456789abcdef0123456789abcdef`, ["GET"]],
  ["POST", `${ns}/activations/0123456789abcdef0123456789abcdef/logs`, ["GET"]],
  ["PUT", `${ns}/activations/0123456789abcdef0123456789abcdef/result`, ["GET"]],
  ["DELETE", "/runtime/namespaces/_/logForwarding", ["GET", "PUT"]],
  ["GET", "/api/v1/feeds/alarms/alarm", ["POST"]],
  ["POST", "/api/v1/api-docs", ["GET"]],
  ["DELETE", "/", ["GET"]],
];

describe("405 for a method a path does not take", () => {
  it.each(REFUSED)("%s %s names %j", async (method, path, allowed) => {
    const res = await send(method, path);
    expect(res.status).toBe(405);
    expect(res.body).toEqual({ error: `HTTP method not allowed, supported methods: ${allowed.join(", ")}`, code: res.headers.get("x-request-id") });
    expect(res.headers.get("allow")).toBe(allowed.join(", "));
  });

  it("carries the CORS headers every /api/v1 answer does", async () => {
    const res = await call("PATCH", `${ns}/activations/0123456789abcdef0123456789abcdef/logs`);
    expect(res.status).toBe(405);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("asks for credentials before it tells what a path takes", async () => {
    const res = await send("PATCH", `${ns}/actions/hello`, { auth: null });
    expect(res.status).toBe(401);
  });

  it("leaves paths nothing is routed to, and missing entities, at 404", async () => {
    for (const [method, path] of [
      ["PATCH", `${ns}/nothing`],
      ["GET", `${ns}/actions/a/b/c`],
      ["PUT", "/api/v1/nothing"],
      ["GET", `${ns}/actions/never-made`],
    ]) {
      const res = await send(method, path);
      expect([method, path, res.status, res.body.error]).toEqual([method, path, 404, "The requested resource does not exist."]);
    }
  });
});
