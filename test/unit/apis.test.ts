import { describe, expect, it } from "vitest";
import {
  ApiError,
  applyApiChange,
  checkPathParameters,
  findApis,
  managedUrl,
  operationIdOf,
  readApiChange,
  removeRoute,
  type ApiDocument,
  type StoredApi,
} from "../../src/core/apis.js";
import { matchGatewayRequest } from "../../src/core/api-routing.js";

const KEY = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:secret";

function routeApidoc(base: string, rel: string, verb: string, action: string, extra: Record<string, unknown> = {}) {
  return {
    namespace: "_",
    gatewayBasePath: base,
    gatewayPath: rel,
    gatewayMethod: verb,
    action: { name: action, namespace: "_", backendMethod: verb, backendUrl: `https://api.test/api/v1/web/_/default/${action}.http`, authkey: KEY },
    ...extra,
  };
}

function apiWith(base: string, routes: [rel: string, verb: string, action: string, type?: string, params?: unknown[]][]): StoredApi {
  let doc: ApiDocument | undefined;
  for (const [rel, verb, action, type, pathParameters] of routes) {
    doc = applyApiChange(doc, readApiChange(routeApidoc(base, rel, verb, action, pathParameters ? { pathParameters } : {}), "guest", type));
  }
  return { tenant: "t", key: base.replace(/^\/|\/$/g, ""), doc: doc!, rev: 1 };
}

describe("API documents", () => {
  it("names operations as route management does", () => {
    expect(operationIdOf("GET", "/path/with/sub_paths/in/it")).toBe("getPathWithSub_pathsInIt");
    expect(operationIdOf("get", "/api2/greeting2/{name}")).toBe("getApi2Greeting2Name");
    expect(operationIdOf("post", "/")).toBe("post");
    expect(operationIdOf("get", "/my-path/ABC.def")).toBe("getMy-pathAbcDef");
  });

  it("reads a route, putting the caller's namespace for _, and merges routes into one document", () => {
    const change = readApiChange(JSON.stringify(routeApidoc("/bp", "/a", "GET", "pkg/act", { apiName: "Books" })), "guest", undefined);
    expect(change).toMatchObject({
      kind: "route",
      basePath: "/bp",
      apiName: "Books",
      route: { relpath: "/a", method: "GET", responseType: "json", action: { namespace: "guest", backendUrl: "https://api.test/api/v1/web/guest/default/pkg/act.http" } },
    });
    const first = applyApiChange(undefined, change);
    expect(first.info.title).toBe("Books");
    expect(first.paths["/a"].get).toMatchObject({ "x-openwhisk": { url: "https://api.test/api/v1/web/guest/pkg/act.json", package: "pkg", action: "act" } });
    const second = applyApiChange(first, readApiChange(routeApidoc("/bp", "/a", "POST", "other", { apiName: "Renamed" }), "guest", "http"));
    expect(Object.keys(second.paths["/a"])).toEqual(["get", "post"]);
    expect(second.info.title).toBe("Books");
    const cases = second["x-ibm-configuration"]!.assembly!.execute![0]["operation-switch"]!.case!;
    expect(cases.map((c) => c.operations)).toEqual([["getA"], ["postA"]]);
    expect(cases[1].execute![0].invoke!["target-url"]).toBe("https://api.test/api/v1/web/guest/default/other.http$(request.path)");
    expect(first.paths["/a"].post).toBeUndefined();
  });

  it("refuses incomplete apidocs in route management's order and words", () => {
    const refuse = (apidoc: unknown) => {
      try {
        readApiChange(apidoc, "guest", undefined);
      } catch (err) {
        expect(err).toBeInstanceOf(ApiError);
        return (err as Error).message;
      }
      throw new Error("accepted");
    };
    expect(refuse(undefined)).toBe("apidoc is required.");
    expect(refuse("{nope")).toBe("apidoc field cannot be parsed. Ensure it is valid JSON.");
    expect(refuse(7)).toBe("apidoc field is of type number and should be a JSON object or a JSON string.");
    expect(refuse({})).toBe("apidoc is missing the namespace field");
    expect(refuse({ namespace: "_", swagger: "{}", gatewayBasePath: "/x" })).toBe(
      "swagger and gatewayBasePath are mutually exclusive and cannot be specified together.",
    );
    expect(refuse({ namespace: "_", swagger: { paths: {}, info: {} } })).toBe("swagger is missing the basePath field.");
    const { action, ...noAction } = routeApidoc("/b", "/r", "GET", "a");
    expect(refuse(noAction)).toBe("apidoc is missing the action field.");
    expect(refuse({ ...noAction, action: { ...action, authkey: undefined } })).toBe("action is missing the authkey field.");
  });

  it("lets a swagger document replace the whole API", () => {
    const swagger = { swagger: "2.0", basePath: "/s", info: { title: "S", version: "1" }, paths: { "/x": {} } };
    const change = readApiChange({ namespace: "_", swagger: JSON.stringify(swagger) }, "guest", undefined);
    expect(change).toEqual({ kind: "swagger", basePath: "/s", doc: swagger });
    expect(applyApiChange(apiWith("/s", [["/old", "get", "a"]]).doc, change)).toEqual(swagger);
  });

  it("requires .http and declared parameters for path parameters, and none in the base path", () => {
    const declared = [{ name: "id", in: "path", required: true, type: "string" }];
    expect(() => checkPathParameters(apiWith("/b", [["/items/{id}", "get", "a", "http", declared]]).doc)).not.toThrow();
    expect(() => checkPathParameters(apiWith("/b", [["/items/{id}", "get", "a", "json", declared]]).doc)).toThrow(
      "The action must use a response type of '.http' in order to receive the path parameters.",
    );
    expect(() => checkPathParameters(apiWith("/b", [["/items/{id}", "get", "a", "http"]]).doc)).toThrow(
      "The parameter 'id' defined in path '/items/{id}' does not match any of the parameters defined for the path in the swagger file.",
    );
    expect(() => checkPathParameters(apiWith("/b/{x}", [["/items", "get", "a"]]).doc)).toThrow(
      "The base path (/b/{x}) cannot have parameters. Only the relative path supports path parameters.",
    );
  });

  it("removes operations and paths, answering whether any path is left", () => {
    const { doc } = apiWith("/b", [["/a", "get", "x"], ["/a", "post", "x"], ["/c", "get", "x"]]);
    expect(() => removeRoute(doc, "/a", "put")).toThrow("path '/a' with operation 'put' does not exist in the API");
    expect(removeRoute(doc, "/a", "post")).toBe(true);
    expect(Object.keys(doc.paths["/a"])).toEqual(["get"]);
    expect(doc["x-ibm-configuration"]!.assembly!.execute![0]["operation-switch"]!.case!.map((c) => c.operations![0])).toEqual(["getA", "getC"]);
    expect(removeRoute(doc, "/a")).toBe(true);
    expect(() => removeRoute(doc, "/a")).toThrow("path '/a' does not exist in the API");
    expect(removeRoute(doc, "/c", "get")).toBe(false);
  });

  it("finds APIs by base path (slashes aside) or by name, and addresses them under the tenant", () => {
    const apis = [apiWith("/books/", [["/a", "get", "x"]]), apiWith("/", [["/a", "get", "x"]])];
    apis[0].key = "books";
    expect(findApis(apis, "/books")).toEqual([apis[0]]);
    expect(findApis(apis, "/books/")).toHaveLength(1);
    expect(findApis(apis, "/books/")[0].doc.info.title).toBe("/books/");
    expect(findApis(apis, "/")).toEqual([apis[1]]);
    expect(managedUrl("https://h", "t", "/books/")).toBe("https://h/api/t/books");
    expect(managedUrl("https://h", "t", "/")).toBe("https://h/api/t");
  });
});

describe("gateway request matching", () => {
  const apis = [
    apiWith("/", [["/ping", "get", "root"]]),
    apiWith("/shop", [["/items", "get", "list"], ["/items/{id}", "get", "one", "http", [{ name: "id" }]], ["/", "post", "home"]]),
  ];
  apis[0].key = "";

  it("serves the longest base path, exact paths before templates, and .http with the whole request path", () => {
    expect(matchGatewayRequest(apis, "/shop/items", "GET")).toMatchObject({ kind: "route", backendPath: "/api/v1/web/guest/default/list.json" });
    expect(matchGatewayRequest(apis, "/shop/items/", "GET")).toMatchObject({ kind: "route", backendPath: "/api/v1/web/guest/default/list.json" });
    expect(matchGatewayRequest(apis, "/shop/items/42", "GET")).toMatchObject({
      kind: "route",
      backendPath: "/api/v1/web/guest/default/one.http/shop/items/42",
    });
    expect(matchGatewayRequest(apis, "/ping", "GET")).toMatchObject({ kind: "route", backendPath: "/api/v1/web/guest/default/root.json" });
    expect(matchGatewayRequest(apis, "/shop", "POST")).toMatchObject({ kind: "route", backendPath: "/api/v1/web/guest/default/home.json" });
  });

  it("falls back to shorter paths, passing the rest on, and tells unknown paths from unsupported verbs", () => {
    expect(matchGatewayRequest(apis, "/ping/more/here", "GET")).toMatchObject({ kind: "route", backendPath: "/api/v1/web/guest/default/root.json/more/here" });
    expect(matchGatewayRequest(apis, "/shop/items", "DELETE")).toEqual({ kind: "verb not supported" });
    expect(matchGatewayRequest(apis, "/shop/items", "OPTIONS")).toMatchObject({ kind: "preflight" });
    expect(matchGatewayRequest(apis, "/nowhere", "GET")).toEqual({ kind: "not found" });
  });

  it("hands on a route's secure key as X-Require-Whisk-Auth", () => {
    const doc = applyApiChange(undefined, readApiChange(routeApidoc("/s", "/k", "GET", "a", {}), "guest", undefined));
    const secured = applyApiChange(doc, readApiChange({ ...routeApidoc("/s", "/k", "GET", "a"), action: { ...routeApidoc("/s", "/k", "GET", "a").action, secureKey: 1234 } }, "guest", undefined));
    expect(matchGatewayRequest([{ tenant: "t", key: "s", doc: secured, rev: 1 }], "/s/k", "GET")).toMatchObject({ kind: "route", secureKey: "1234" });
  });
});
