// The API gateway (`wsk api`): route management at
// /api/v1/web/whisk.system/apimgmt and the managed routes at /api/{tenant}/...
import { beforeAll, describe, expect, it } from "vitest";
import { call, createAction, GUEST_KEY, OTHER_KEY, seedNamespaces } from "./helpers.js";

const GUEST_UUID = GUEST_KEY.split(":")[0];
const MGMT = "/api/v1/web/whisk.system/apimgmt";

/** The body `wsk api create BASE REL VERB ACTION` sends (openwhisk-client-go). */
function routeDoc(base: string, rel: string, verb: string, action: string, extra: Record<string, unknown> = {}) {
  return {
    apidoc: {
      namespace: "_",
      gatewayBasePath: base,
      gatewayPath: rel,
      gatewayMethod: verb,
      id: `API:_:${base}`,
      action: {
        name: action,
        namespace: "_",
        backendMethod: verb,
        backendUrl: `http://edgewhisk.test/api/v1/web/_/default/${action}.http`,
        authkey: GUEST_KEY,
      },
      ...extra,
    },
  };
}

const cliQuery = (responseType = "json") => `accesstoken=DUMMY+TOKEN&spaceguid=${GUEST_UUID}&responsetype=${responseType}`;

function createRoute(base: string, rel: string, verb: string, action: string, responseType = "json", extra: Record<string, unknown> = {}) {
  return call("POST", `${MGMT}/createApi.http?${cliQuery(responseType)}`, { body: routeDoc(base, rel, verb, action, extra) });
}

beforeAll(async () => {
  await seedNamespaces();
  await createAction("greet", "function main(p) { return { greeting: 'hello ' + (p.name || 'world'), method: p.__ow_method, path: p.__ow_path } }", {
    annotations: [{ key: "web-export", value: true }],
  });
  await createAction(
    "book",
    "function main(p) { return { statusCode: 201, headers: { 'x-book': 'yes' }, body: { path: p.__ow_path, method: p.__ow_method, q: p.q || null } } }",
    { annotations: [{ key: "web-export", value: true }] },
  );
});

describe("route management", () => {
  it("creates a route as the CLI does, answers the gateway URL and serves it", async () => {
    const created = await createRoute("/hello", "/world", "GET", "greet");
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      namespace: "Not Used",
      gwApiActivated: true,
      tenantId: "Not Used",
      gwApiUrl: `http://edgewhisk.test/api/${GUEST_UUID}/hello`,
      apidoc: {
        swagger: "2.0",
        basePath: "/hello",
        info: { title: "/hello", version: "1.0.0" },
        paths: {
          "/world": {
            get: {
              operationId: "getWorld",
              "x-openwhisk": { namespace: "guest", package: "", action: "greet", url: "http://edgewhisk.test/api/v1/web/guest/default/greet.json" },
              responses: { default: { description: "Default response" } },
            },
          },
        },
      },
    });

    const served = await call("GET", `/api/${GUEST_UUID}/hello/world?name=gateway`, { auth: null, headers: { origin: "https://app.example" } });
    expect(served.status).toBe(200);
    expect(served.body).toMatchObject({ greeting: "hello gateway", method: "get" });
    expect(served.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(served.headers.get("access-control-allow-credentials")).toBe("true");
    expect(served.headers.get("x-openwhisk-activation-id")).toMatch(/^[0-9a-f]{32}$/);

    const wrongVerb = await call("POST", `/api/${GUEST_UUID}/hello/world`, { auth: null });
    expect(wrongVerb.status).toBe(404);
    expect(wrongVerb.body).toEqual({ status: 404, message: "Error: Whoops. Verb not supported." });
    const unknown = await call("GET", `/api/${GUEST_UUID}/nothing/here`, { auth: null });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ status: 404, message: "Error: Not found." });
    const preflight = await call("OPTIONS", `/api/${GUEST_UUID}/hello/world`, { auth: null, headers: { "access-control-request-headers": "x-custom" } });
    expect(preflight.status).toBe(200);
    expect(preflight.headers.get("access-control-allow-headers")).toBe("x-custom");
  });

  it("merges routes into an API, passes path parameters through .http, and lists and gets them", async () => {
    const pathParameters = [{ name: "id", in: "path", description: "Default description for 'id'", required: true, type: "string" }];
    expect((await createRoute("/library", "/books", "GET", "book", "http")).status).toBe(200);
    const withParam = await createRoute("/library", "/books/{id}", "PUT", "book", "http", { pathParameters, apiName: "ignored later" });
    expect(withParam.status).toBe(200);
    expect(Object.keys(withParam.body.apidoc.paths)).toEqual(["/books", "/books/{id}"]);
    expect(withParam.body.apidoc.info.title).toBe("/library");

    const served = await call("PUT", `/api/${GUEST_UUID}/library/books/42?q=x`, { auth: null, body: { extra: true } });
    expect(served.status).toBe(201);
    expect(served.headers.get("x-book")).toBe("yes");
    expect(served.body).toEqual({ path: "/library/books/42", method: "put", q: "x" });

    const listed = await call("GET", `${MGMT}/getApi.http?limit=30&skip=0&${cliQuery()}`);
    expect(listed.status).toBe(200);
    const basePaths = listed.body.apis.map((a: { value: { apidoc: { basePath: string } } }) => a.value.apidoc.basePath);
    expect(basePaths).toEqual(expect.arrayContaining(["/hello", "/library"]));
    expect(listed.body.apis[0]).toMatchObject({ id: "Not Used", key: "Not Used", value: { gwApiActivated: true } });

    const one = await call("GET", `${MGMT}/getApi.http?basepath=%2Flibrary&${cliQuery()}`);
    expect(one.body.apis).toHaveLength(1);
    expect(one.body.apis[0].value.gwApiUrl).toBe(`http://edgewhisk.test/api/${GUEST_UUID}/library`);
    const none = await call("GET", `${MGMT}/getApi.http?basepath=%2Fmissing&${cliQuery()}`);
    expect(none.body).toEqual({ apis: [] });
  });

  it("refuses path parameters without .http, and bad apidocs, with route management's messages and 502", async () => {
    const pathParameters = [{ name: "id", in: "path", required: true, type: "string" }];
    const json = await createRoute("/bad", "/things/{id}", "GET", "book", "json", { pathParameters });
    expect(json.status).toBe(502);
    expect(json.body).toEqual({ error: "API creation failure: The action must use a response type of '.http' in order to receive the path parameters." });
    const noDoc = await call("POST", `${MGMT}/createApi.http?${cliQuery()}`, { body: {} });
    expect(noDoc.status).toBe(502);
    expect(noDoc.body).toEqual({ error: "apidoc is required." });
    const noPath = await call("POST", `${MGMT}/createApi.http?${cliQuery()}`, { body: { apidoc: { namespace: "_", gatewayBasePath: "/x" } } });
    expect(noPath.body).toEqual({ error: "apidoc is missing the gatewayPath field" });
    const noKey = await call("POST", `${MGMT}/createApi.http`, { auth: null, body: routeDoc("/x", "/y", "GET", "greet") });
    expect(noKey.status).toBe(502);
    expect(noKey.body).toEqual({ error: "A valid auth key is required." });
    expect((await call("GET", `${MGMT}/getApi.http?basepath=%2Fbad&${cliQuery()}`)).body).toEqual({ apis: [] });
    const huge = await call("POST", `${MGMT}/createApi.http?${cliQuery()}`, { body: routeDoc("/huge", "/x", "GET", "greet", { padding: "x".repeat(1024 * 1024) }) });
    expect(huge.status).toBe(413);
    expect((await call("GET", `${MGMT}/getApi.http?basepath=%2Fhuge&${cliQuery()}`)).body).toEqual({ apis: [] });
  });

  it("deletes an operation, a path, then a whole API", async () => {
    await createRoute("/shop", "/items", "GET", "greet");
    await createRoute("/shop", "/items", "POST", "greet");
    await createRoute("/shop", "/orders", "GET", "greet");
    const missing = await call("DELETE", `${MGMT}/deleteApi.http?basepath=%2Fshop&relpath=%2Fnope&${cliQuery()}`);
    expect(missing.status).toBe(502);
    expect(missing.body).toEqual({ error: "API deletion failure: path '/nope' does not exist in the API" });

    const op = await call("DELETE", `${MGMT}/deleteApi.http?basepath=%2Fshop&relpath=%2Fitems&operation=POST&${cliQuery()}`);
    expect(op.status).toBe(200);
    expect(op.body).toEqual({});
    expect((await call("POST", `/api/${GUEST_UUID}/shop/items`, { auth: null })).body.message).toBe("Error: Whoops. Verb not supported.");
    expect((await call("GET", `/api/${GUEST_UUID}/shop/items`, { auth: null })).status).toBe(200);

    await call("DELETE", `${MGMT}/deleteApi.http?basepath=%2Fshop&relpath=%2Fitems&${cliQuery()}`);
    expect((await call("GET", `/api/${GUEST_UUID}/shop/items`, { auth: null })).status).toBe(404);
    await call("DELETE", `${MGMT}/deleteApi.http?basepath=%2Fshop&${cliQuery()}`);
    expect((await call("GET", `/api/${GUEST_UUID}/shop/orders`, { auth: null })).status).toBe(404);
    const gone = await call("DELETE", `${MGMT}/deleteApi.http?basepath=%2Fshop&${cliQuery()}`);
    expect(gone.body).toEqual({ error: "API deletion failure: API '/shop' does not exist." });
  });

  it("takes a whole swagger document, as `wsk api create --config-file` sends it", async () => {
    const swagger = {
      swagger: "2.0",
      basePath: "/docs",
      info: { title: "Docs", version: "1.0.0" },
      paths: {
        "/hi": {
          get: {
            operationId: "getHi",
            "x-openwhisk": { namespace: "guest", package: "", action: "greet", url: "http://edgewhisk.test/api/v1/web/guest/default/greet.json" },
            responses: { default: { description: "Default response" } },
          },
        },
      },
    };
    const created = await call("POST", `${MGMT}/createApi.http?${cliQuery()}`, { body: { apidoc: { namespace: "_", swagger: JSON.stringify(swagger) } } });
    expect(created.status).toBe(200);
    expect(created.body.apidoc).toEqual(swagger);
    expect((await call("GET", `/api/${GUEST_UUID}/docs/hi?name=swagger`, { auth: null })).body).toMatchObject({ greeting: "hello swagger" });
    const byName = await call("GET", `${MGMT}/getApi.http?basepath=Docs&${cliQuery()}`);
    expect(byName.body.apis.map((a: { value: { apidoc: { basePath: string } } }) => a.value.apidoc.basePath)).toEqual(["/docs"]);
  });

  it("passes a route's secure key to an action that requires it, as the CLI sets it from require-whisk-auth", async () => {
    await createAction("guarded", "function main() { return { opened: true } }", {
      annotations: [{ key: "web-export", value: true }, { key: "require-whisk-auth", value: "s3cret" }],
    });
    await createRoute("/vault", "/open", "GET", "guarded");
    expect((await call("GET", `/api/${GUEST_UUID}/vault/open`, { auth: null })).status).toBe(401);
    const doc = routeDoc("/vault", "/open", "GET", "guarded");
    (doc.apidoc.action as Record<string, unknown>).secureKey = "s3cret";
    expect((await call("POST", `${MGMT}/createApi.http?${cliQuery()}`, { body: doc })).status).toBe(200);
    const opened = await call("GET", `/api/${GUEST_UUID}/vault/open`, { auth: null });
    expect(opened.status).toBe(200);
    expect(opened.body).toEqual({ opened: true });
  });

  it("pages getApi with limit and skip, checks outputFormat, and leaves CORS off where a swagger turns it off", async () => {
    const otherKey = OTHER_KEY; // a tenant of its own, so the other tests' APIs stay out of its pages
    const otherQuery = "accesstoken=t";
    await createAction("open", "function main() { return { ok: true } }", { annotations: [{ key: "web-export", value: true }] }, otherKey);
    const doc = (base: string) => ({
      apidoc: {
        namespace: "_",
        gatewayBasePath: base,
        gatewayPath: "/x",
        gatewayMethod: "GET",
        action: { name: "open", namespace: "_", backendMethod: "GET", backendUrl: "http://edgewhisk.test/api/v1/web/_/default/open.http", authkey: otherKey },
      },
    });
    for (const base of ["/p1", "/p2", "/p3"]) {
      expect((await call("POST", `${MGMT}/createApi.http?${otherQuery}`, { body: doc(base), auth: otherKey })).status).toBe(200);
    }
    const page = await call("GET", `${MGMT}/getApi.http?limit=1&skip=1&${otherQuery}`, { auth: otherKey });
    expect(page.body.apis.map((a: { value: { apidoc: { basePath: string } } }) => a.value.apidoc.basePath)).toEqual(["/p2"]);
    expect((await call("GET", `${MGMT}/getApi.http?limit=0&${otherQuery}`, { auth: otherKey })).body).toEqual({ apis: [] });
    const badFormat = await call("GET", `${MGMT}/getApi.http?outputFormat=xml&${otherQuery}`, { auth: otherKey });
    expect(badFormat.status).toBe(502);
    expect(badFormat.body).toEqual({ error: "Invalid outputFormat value. Valid values are: apigw, swagger" });

    const otherUuid = otherKey.split(":")[0];
    const served = await call("GET", `/api/${otherUuid}/p1/x`, { auth: null, headers: { origin: "https://app.example" } });
    expect(served.headers.get("access-control-allow-credentials")).toBe("true");
    const swagger = (await call("GET", `${MGMT}/getApi.http?basepath=%2Fp1&${otherQuery}`, { auth: otherKey })).body.apis[0].value.apidoc;
    swagger["x-ibm-configuration"].cors.enabled = false;
    await call("POST", `${MGMT}/createApi.http?${otherQuery}`, { body: { apidoc: { namespace: "_", swagger } }, auth: otherKey });
    const closed = await call("GET", `/api/${otherUuid}/p1/x`, { auth: null, headers: { origin: "https://app.example" } });
    expect(closed.status).toBe(200);
    expect(closed.headers.get("access-control-allow-credentials")).toBeNull();
  });

  it("keeps each key's APIs to itself, whatever spaceguid a caller sends", async () => {
    await createRoute("/private", "/data", "GET", "greet");
    const otherUuid = OTHER_KEY.split(":")[0];
    const theirs = await call("GET", `${MGMT}/getApi.http?basepath=%2Fprivate&accesstoken=t&spaceguid=${GUEST_UUID}`, { auth: OTHER_KEY });
    expect(theirs.body).toEqual({ apis: [] });
    const deleted = await call("DELETE", `${MGMT}/deleteApi.http?basepath=%2Fprivate&accesstoken=t&spaceguid=${GUEST_UUID}`, { auth: OTHER_KEY });
    expect(deleted.status).toBe(502);
    expect((await call("GET", `/api/${otherUuid}/private/data`, { auth: null })).status).toBe(404);
    expect((await call("GET", `/api/${GUEST_UUID}/private/data`, { auth: null })).status).toBe(200);
  });
});
