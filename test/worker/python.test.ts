// Python actions on the Cloudflare host: the invoker Durable Object loads
// them through the real Worker Loader with the bundled Pyodide files, and
// makes the memory snapshot on first use (no PYTHON_SNAPSHOTS bucket here).
import { beforeAll, describe, expect, it } from "vitest";
import { call, seedNamespaces } from "./helpers.js";

beforeAll(seedNamespaces);

const HELLO_PY = `import os
def main(args):
    print("hello from", os.environ["__OW_ACTION_NAME"])
    name = args.get("name", "stranger")
    return {"greeting": "Hello " + name, "body": "<h1>Hello " + name + "</h1>"}
`;

describe("Python actions on the Worker Loader", () => {
  it("runs a python:default action, records its logs, and serves it as a web action", { timeout: 120_000 }, async () => {
    const created = await call("PUT", "/api/v1/namespaces/_/actions/hello-py", {
      body: { exec: { kind: "python:default", code: HELLO_PY }, annotations: [{ key: "web-export", value: true }] },
    });
    expect(created.status).toBe(200);
    expect(created.body.exec.kind).toBe("python:3");

    const cold = await call("POST", "/api/v1/namespaces/_/actions/hello-py?blocking=true", { body: { name: "edge" } });
    expect(cold.status).toBe(200);
    expect(cold.body.response).toMatchObject({ status: "success", result: { greeting: "Hello edge" } });
    expect(cold.body.logs).toEqual([expect.stringMatching(/Z stdout: hello from \/guest\/hello-py$/)]);
    expect(cold.body.annotations).toContainEqual({ key: "initTime", value: expect.any(Number) });

    const web = await call("GET", "/api/v1/web/guest/default/hello-py.http?name=web", { auth: null });
    expect(web.status).toBe(200);
    expect(web.text).toBe("<h1>Hello web</h1>");

    const failing = await call("PUT", "/api/v1/namespaces/_/actions/fail-py", {
      body: { exec: { kind: "python:3.12", code: "def main(args):\n    return 'no dict'\n" } },
    });
    expect(failing.status).toBe(200);
    const failed = await call("POST", "/api/v1/namespaces/_/actions/fail-py?blocking=true", { body: {} });
    expect(failed.body.response).toMatchObject({
      status: "action developer error",
      result: { error: "The action did not return a dictionary or array." },
    });
  });
});
