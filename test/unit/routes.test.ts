// Entity routes registered in and out of packages alike, and the 405 read off
// whatever routes an app has, on a small app of their own.
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { notFound } from "../../src/core/errors.js";
import type { ApiEnv } from "../../src/api/context.js";
import { renderError, renderNotFound } from "../../src/api/errors.js";
import { entityInOrOutOfPackage, refuseUnroutedMethods } from "../../src/api/routes.js";

const errorOf = async (res: Response) => ((await res.json()) as { error: string }).error;

function app() {
  const app = new Hono<ApiEnv>();
  app.options("/*", (c) => c.body(null, 204));
  app.use("*", refuseUnroutedMethods(app));
  entityInOrOutOfPackage(app, "/things", {
    GET: (c) => {
      if (c.req.param("name") === "missing") throw notFound();
      return c.json({ pkg: c.req.param("pkg") ?? null, name: c.req.param("name") });
    },
    PUT: (c) => c.json({ put: c.req.param("name") }),
  });
  app.get("/things", (c) => c.json([]));
  app.onError(renderError);
  app.notFound(renderNotFound);
  return app;
}

describe("entityInOrOutOfPackage", () => {
  it("serves an entity at the top level and inside a package with the same handler", async () => {
    expect(await (await app().request("/things/a")).json()).toEqual({ pkg: null, name: "a" });
    expect(await (await app().request("/things/p/a")).json()).toEqual({ pkg: "p", name: "a" });
    expect(await (await app().request("/things/p/a", { method: "PUT" })).json()).toEqual({ put: "a" });
  });
});

describe("refuseUnroutedMethods", () => {
  it("answers OpenWhisk's 405 naming the methods the path's routes take, in and out of a package", async () => {
    for (const path of ["/things/a", "/things/p/a"]) {
      const res = await app().request(path, { method: "DELETE" });
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe("GET, PUT");
      expect(await errorOf(res)).toBe("HTTP method not allowed, supported methods: GET, PUT");
    }
    const collection = await app().request("/things", { method: "POST" });
    expect([collection.status, collection.headers.get("allow")]).toEqual([405, "GET"]);
  });

  it("lets HEAD through where GET is routed, as hono answers it", async () => {
    expect((await app().request("/things/a", { method: "HEAD" })).status).toBe(200);
  });

  it("keeps a 404 where only the preflight matches, and where a handler found nothing", async () => {
    const nowhere = await app().request("/elsewhere", { method: "POST" });
    expect([nowhere.status, await errorOf(nowhere)]).toEqual([404, "The requested resource does not exist."]);
    expect((await app().request("/things/missing")).status).toBe(404);
  });
});
