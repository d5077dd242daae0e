// The actions collection against the real Worker, D1 and invoker DOs.
import { beforeAll, describe, expect, it } from "vitest";
import { call, createAction, fetchWorker, HELLO_JS, OTHER_KEY, seedNamespaces } from "./helpers.js";

beforeAll(seedNamespaces);

const actionsPath = "/api/v1/namespaces/_/actions";

describe("creating and reading actions", () => {
  it("stores an action with OpenWhisk's fields and answers it", async () => {
    const res = await call("PUT", `${actionsPath}/fields`, {
      body: {
        exec: { kind: "nodejs:default", code: HELLO_JS },
        parameters: [{ key: "name", value: "Stranger" }],
        annotations: [{ key: "description", value: "says hello" }],
        limits: { timeout: 5000 },
      },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      namespace: "guest",
      name: "fields",
      version: "0.0.1",
      publish: false,
      exec: { kind: "nodejs:20", code: HELLO_JS, binary: false },
      parameters: [{ key: "name", value: "Stranger" }],
      annotations: [
        { key: "description", value: "says hello" },
        { key: "provide-api-key", value: false },
        { key: "exec", value: "nodejs:20" },
      ],
      limits: { timeout: 5000, memory: 256, logs: 10, concurrency: 1 },
      updated: expect.any(Number),
    });
    const got = await call("GET", `${actionsPath}/fields`);
    expect(got.body).toEqual(res.body);
    const withoutCode = await call("GET", `${actionsPath}/fields?code=false`);
    expect(withoutCode.body.exec).toEqual({ kind: "nodejs:20", binary: false });
  });

  it("answers 409 for an existing name without overwrite, and bumps the patch version with it", async () => {
    await createAction("versions", HELLO_JS);
    const again = await call("PUT", `${actionsPath}/versions`, { body: { exec: { kind: "nodejs:20", code: "x" } } });
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ error: "resource already exists", code: expect.any(String) });
    const updated = await call("PUT", `${actionsPath}/versions?overwrite=true`, {
      body: { exec: { kind: "nodejs:22", code: "function main(){return {v:2}}" } },
    });
    expect(updated.status).toBe(200);
    expect(updated.body.version).toBe("0.0.2");
    expect(updated.body.exec.kind).toBe("nodejs:22");
    const result = await call("POST", `${actionsPath}/versions?blocking=true&result=true`);
    expect(result.body).toEqual({ v: 2 });
  });

  it("keeps the node kind a client asked for and maps nodejs:default", async () => {
    const old = await call("PUT", `${actionsPath}/kind18`, { body: { exec: { kind: "nodejs:18", code: HELLO_JS } } });
    expect(old.body.exec.kind).toBe("nodejs:18");
    const dflt = await call("PUT", `${actionsPath}/kinddefault`, { body: { exec: { kind: "nodejs:default", code: HELLO_JS } } });
    expect(dflt.body.exec.kind).toBe("nodejs:20");
  });

  it("lists with limit, skip and count, newest first, without code", async () => {
    for (const name of ["list-a", "list-b", "list-c"]) await createAction(name, HELLO_JS);
    const all = await call("GET", `${actionsPath}?limit=200`);
    expect(all.status).toBe(200);
    const names = all.body.map((a: { name: string }) => a.name);
    expect(names.indexOf("list-c")).toBeLessThan(names.indexOf("list-a"));
    expect(all.body[0]).not.toHaveProperty("parameters");
    expect(all.body[0].exec).toEqual({ binary: false });
    const page = await call("GET", `${actionsPath}?limit=1&skip=1`);
    expect(page.body).toHaveLength(1);
    expect(page.body[0].name).toBe(all.body[1].name);
    const count = await call("GET", `${actionsPath}?count=true`);
    expect(count.body).toEqual({ actions: all.body.length });
  });

  it("refuses bad list parameters with OpenWhisk's messages", async () => {
    expect((await call("GET", `${actionsPath}?limit=201`)).body.error).toBe(
      "The value '201' is not in the range of 0 to 200 for actions.",
    );
    expect((await call("GET", `${actionsPath}?skip=-1`)).body.error).toBe(
      "The value '-1' is not greater than or equal to 0 for actions.",
    );
    expect((await call("GET", `${actionsPath}?limit=abc`)).status).toBe(400);
  });

  it("deletes an action, answering the deleted document, then 404", async () => {
    await createAction("doomed", HELLO_JS);
    const deleted = await call("DELETE", `${actionsPath}/doomed`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ name: "doomed", exec: { code: HELLO_JS } });
    const gone = await call("GET", `${actionsPath}/doomed`);
    expect(gone.status).toBe(404);
    expect(gone.body.error).toBe("The requested resource does not exist.");
    expect((await call("DELETE", `${actionsPath}/doomed`)).status).toBe(404);
    expect((await call("POST", `${actionsPath}/doomed?blocking=true`)).status).toBe(404);
  });
});

describe("bad input changes nothing", () => {
  async function expectAbsent(name: string) {
    expect((await call("GET", `${actionsPath}/${name}`)).status).toBe(404);
  }

  it("refuses malformed JSON", async () => {
    const res = await call("PUT", `${actionsPath}/malformed`, {
      raw: "{not json",
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/^The request content was malformed:/);
    expect(res.body.code).toEqual(expect.any(String));
    await expectAbsent("malformed");
  });

  it("refuses unknown kinds", async () => {
    const res = await call("PUT", `${actionsPath}/swift`, { body: { exec: { kind: "swift:5.7", code: "func main() {}" } } });
    expect(res.status).toBe(400);
    expect(res.body.error).toContain("The specified runtime 'swift:5.7' is not supported by this platform.");
    await expectAbsent("swift");
  });

  it("refuses a missing exec or missing code", async () => {
    const noExec = await call("PUT", `${actionsPath}/noexec`, { body: { parameters: [] } });
    expect(noExec.status).toBe(400);
    expect(noExec.body.error).toBe("exec undefined");
    const noCode = await call("PUT", `${actionsPath}/nocode`, { body: { exec: { kind: "nodejs:20" } } });
    expect(noCode.status).toBe(400);
    expect(noCode.body.error).toContain("'code' must be a string defined in 'exec' for 'nodejs:20' actions");
    await expectAbsent("noexec");
    await expectAbsent("nocode");
  });

  it("refuses illegal entity names", async () => {
    const res = await call("PUT", `/api/v1/namespaces/_/actions/${encodeURIComponent("-bad$")}`, {
      body: { exec: { kind: "nodejs:20", code: HELLO_JS } },
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("The name of the entity contains illegal characters.");
  });

  it("refuses limits outside OpenWhisk's bounds", async () => {
    const res = await call("PUT", `${actionsPath}/limits`, {
      body: { exec: { kind: "nodejs:20", code: HELLO_JS }, limits: { memory: 1024 } },
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("memory size 1024 MB exceeds allowed threshold of 512 MB");
    const timeout = await call("PUT", `${actionsPath}/limits`, {
      body: { exec: { kind: "nodejs:20", code: HELLO_JS }, limits: { timeout: 50 } },
    });
    expect(timeout.body.error).toBe("duration 50 milliseconds below allowed threshold of 100 milliseconds");
    await expectAbsent("limits");
  });

  it("refuses oversize code with 413", async () => {
    const code = `// ${"x".repeat(48 * 1024 * 1024)}`;
    const res = await call("PUT", `${actionsPath}/huge`, { body: { exec: { kind: "nodejs:20", code } } });
    expect(res.status).toBe(413);
    expect(res.body.error).toMatch(/^exec larger than allowed: \d+ > 50331648 bytes\.$/);
    await expectAbsent("huge");
  });

  it("answers 405 for methods a path does not support", async () => {
    const res = await call("PATCH", `${actionsPath}/anything`, { body: {} });
    expect(res.status).toBe(405);
    expect(res.body.error).toBe("HTTP method not allowed, supported methods: GET, PUT, DELETE, POST");
  });
});

describe("authentication and namespaces", () => {
  it("answers 401 without credentials and with wrong ones", async () => {
    const none = await call("GET", actionsPath, { auth: null });
    expect(none.status).toBe(401);
    expect(none.body.error).toBe("The resource requires authentication, which was not supplied with the request");
    const wrong = await call("GET", actionsPath, { auth: "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:nope" });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe("The supplied authentication is invalid");
  });

  it("lists the caller's namespace", async () => {
    expect((await call("GET", "/api/v1/namespaces")).body).toEqual(["guest"]);
    expect((await call("GET", "/api/v1/namespaces", { auth: OTHER_KEY })).body).toEqual(["other"]);
  });

  it("keeps namespaces apart", async () => {
    await createAction("private", HELLO_JS);
    const read = await call("GET", "/api/v1/namespaces/guest/actions/private", { auth: OTHER_KEY });
    expect(read.status).toBe(403);
    expect(read.body.error).toBe("The supplied authentication is not authorized to access 'guest/private'.");
    expect((await call("POST", "/api/v1/namespaces/guest/actions/private?blocking=true", { auth: OTHER_KEY })).status).toBe(403);
    expect((await call("DELETE", "/api/v1/namespaces/guest/actions/private", { auth: OTHER_KEY })).status).toBe(403);
    expect((await call("GET", "/api/v1/namespaces/guest/actions", { auth: OTHER_KEY })).status).toBe(403);
    const overwrite = await call("PUT", "/api/v1/namespaces/guest/actions/private?overwrite=true", {
      auth: OTHER_KEY,
      body: { exec: { kind: "nodejs:20", code: "function main(){return {pwned:true}}" } },
    });
    expect(overwrite.status).toBe(403);
    expect((await call("POST", `${actionsPath}/private?blocking=true&result=true`)).body).toEqual({ payload: "Hello, World!" });
    expect((await call("GET", `${actionsPath}/private`, { auth: OTHER_KEY })).status).toBe(404);
  });
});

describe("API information", () => {
  it("describes the API at /api/v1", async () => {
    const res = await call("GET", "/api/v1", { auth: null });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ description: "OpenWhisk API", api_paths: ["/api/v1"], api_version: "1.0.0" });
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("serves the Swagger document and UI where swagger_paths says, every reference resolving", async () => {
    const info = (await call("GET", "/api/v1", { auth: null })).body;
    expect(info.swagger_paths).toEqual({ ui: "/docs", "api-docs": "/api-docs" });
    const docs = await call("GET", `/api/v1${info.swagger_paths["api-docs"]}`, { auth: null });
    expect(docs.status).toBe(200);
    expect(docs.body).toMatchObject({ swagger: "2.0", basePath: "/api/v1", host: "edgewhisk.test" });
    expect(docs.body.paths["/namespaces/{namespace}/actions/{actionName}"]).toHaveProperty("post.operationId", "invokeAction");
    expect(docs.body.paths["/namespaces/{namespace}/triggers/{triggerName}"]).toHaveProperty("post.operationId", "fireTrigger");
    expect(Object.keys(docs.body.definitions)).toEqual(expect.arrayContaining(["ActionMeta", "ActionExecMeta", "RuleMeta", "TriggerMeta"]));
    const refs = [...docs.text.matchAll(/"#\/definitions\/([^"]+)"/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(20);
    expect(refs.filter((name) => !(name in docs.body.definitions))).toEqual([]);

    const redirect = await fetchWorker(`/api/v1${info.swagger_paths.ui}`, { redirect: "manual" });
    expect(redirect.status).toBe(308);
    expect(redirect.headers.get("location")).toBe("/api/v1/docs/index.html?url=/api/v1/api-docs");
    const ui = await call("GET", "/api/v1/docs/index.html?url=%3C/script%3E%3Cscript%3Ealert(1)%3C/script%3E", { auth: null });
    expect(ui.text).toContain("<title>Swagger UI</title>");
    expect(ui.text).not.toContain("</script><script>alert(1)");
  });

  it("describes the platform at / with its limits and runtimes", async () => {
    const res = await call("GET", "/", { auth: null });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ description: "OpenWhisk", api_paths: ["/api/v1"], limits: { sequence_length: 50 } });
    expect(res.body.runtimes.nodejs.find((r: { default: boolean }) => r.default).kind).toBe("nodejs:20");
    expect(res.body.runtimes.python.map((r: { kind: string }) => r.kind)).toEqual(["python:3", "python:3.10", "python:3.11", "python:3.12"]);
    expect(res.body.runtimes.python.find((r: { default: boolean }) => r.default)).toMatchObject({ kind: "python:3", runs: "CPython 3.14 (Pyodide 314)" });
  });
});
