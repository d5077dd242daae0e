// Web actions: the chapter's hello world and OpenWhisk's web-action rules.
import { beforeAll, describe, expect, it } from "vitest";
import { call, createAction, fetchWorker, GUEST_KEY, OTHER_KEY, seedNamespaces, store, waitForActivation } from "./helpers.js";

/** The chapter's hello.js. */
const CHAPTER_HELLO = `function main(args) {
  var msg = "you didn't tell me who you are.";
  if (args.name) {
    msg = \`hello \${args.name}!\`
  }
  return {body: \`<html><body><h3><center>\${msg}</center></h3></body></html>\`}
}`;

/** The annotations `wsk action create --web true` sets. */
const WEB_TRUE = [
  { key: "web-export", value: true },
  { key: "raw-http", value: false },
  { key: "final", value: true },
];
const WEB_RAW = [
  { key: "web-export", value: true },
  { key: "raw-http", value: true },
  { key: "final", value: true },
];

const web = (path: string, init: { method?: string; body?: unknown; raw?: string; headers?: Record<string, string>; auth?: string | null } = {}) =>
  call(init.method ?? "GET", `/api/v1/web/${path}`, { auth: init.auth ?? null, body: init.body, raw: init.raw, headers: init.headers });

beforeAll(async () => {
  await seedNamespaces();
  await call("PUT", "/api/v1/namespaces/_/packages/demo", { body: {} });
  await createAction("demo/hello", CHAPTER_HELLO, { annotations: WEB_TRUE });
  await createAction("echo", "function main(p) { return p }", { annotations: WEB_TRUE, parameters: [{ key: "fixed", value: "mine" }] });
  await createAction("rawecho", "function main(p) { return p }", { annotations: WEB_RAW });
  await createAction("hidden", "function main(p) { return { body: 'secret' } }");
});

describe("the chapter's hello world", () => {
  it("answers text/html with the greeting", async () => {
    const res = await web("guest/demo/hello.http?name=Kubernetes%20for%20Serverless%20Applications");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.text).toBe("<html><body><h3><center>hello Kubernetes for Serverless Applications!</center></h3></body></html>");
  });

  it("says so when no name is given, also without an extension", async () => {
    for (const path of ["guest/demo/hello.http", "guest/demo/hello"]) {
      const res = await web(path);
      expect(res.text).toBe("<html><body><h3><center>you didn't tell me who you are.</center></h3></body></html>");
    }
  });

  it("records every web invocation as an activation of the owner", async () => {
    const res = await web("guest/demo/hello.http?name=x");
    const id = res.headers.get("x-openwhisk-activation-id")!;
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    const record = await waitForActivation(id);
    expect(record).toMatchObject({ namespace: "guest", name: "hello", response: { success: true } });
    expect(record.annotations).toContainEqual({ key: "path", value: "guest/demo/hello" });
  });
});

describe("extensions", () => {
  it("answers .json with the whole result and the request context", async () => {
    const res = await web("guest/default/echo.json/some/path?a=1", { headers: { "x-custom": "yes" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.body).toMatchObject({ a: "1", fixed: "mine", __ow_method: "get", __ow_path: "/some/path" });
    expect(res.body.__ow_headers).toMatchObject({ "x-custom": "yes" });
    expect(res.body).not.toHaveProperty("__ow_user");
  });

  it("projects body, html, svg and text fields", async () => {
    await createAction("fields", "function main() { return { html: '<p>h</p>', svg: '<svg/>', text: 'plain' } }", { annotations: WEB_TRUE });
    expect((await web("guest/default/fields.html")).text).toBe("<p>h</p>");
    const svg = await web("guest/default/fields.svg");
    expect(svg.headers.get("content-type")).toBe("image/svg+xml");
    expect(svg.text).toBe("<svg/>");
    const text = await web("guest/default/fields.text");
    expect(text.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(text.text).toBe("plain");
  });

  it("refuses results that do not fit the extension", async () => {
    await createAction("notext", "function main() { return { other: 1 } }", { annotations: WEB_TRUE });
    const html = await web("guest/default/notext.html");
    expect(html.status).toBe(400);
    expect(html.body.error).toBe("Response is not valid 'text/html'.");
    const text = await web("guest/default/notext.text");
    expect(text.status).toBe(404);
    expect(text.body.error).toBe("Response does not include requested property.");
  });

  it("builds .http responses from statusCode, headers and body", async () => {
    await createAction(
      "http",
      `function main(p) {
        if (p.kind === 'json') return { statusCode: 201, headers: { 'X-Multi': ['a', 'b'], 'X-Num': 3 }, body: { created: true } };
        if (p.kind === 'png') return { headers: { 'content-type': 'image/png' }, body: 'iVBORw0KGgo=' };
        if (p.kind === 'empty') return { headers: { location: '/x' } };
        if (p.kind === 'bad') return { statusCode: 'teapot' };
        return { body: 'plain html' };
      }`,
      { annotations: WEB_TRUE },
    );
    const json = await web("guest/default/http?kind=json");
    expect(json.status).toBe(201);
    expect(json.headers.get("content-type")).toMatch(/^application\/json/);
    expect(json.headers.get("x-multi")).toBe("a, b");
    expect(json.headers.get("x-num")).toBe("3");
    expect(json.body).toEqual({ created: true });
    const png = await fetchWorker("/api/v1/web/guest/default/http?kind=png");
    expect(png.headers.get("content-type")).toBe("image/png");
    expect([...new Uint8Array(await png.arrayBuffer())]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const empty = await web("guest/default/http?kind=empty");
    expect(empty.status).toBe(204);
    expect(empty.headers.get("location")).toBe("/x");
    const bad = await web("guest/default/http?kind=bad");
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe("Response is not valid 'message/http'.");
  });

  it("projects the error field of an application error and hides developer errors", async () => {
    await createAction("fails", "function main(p) { if (p.crash) throw new Error('x'); return { error: { statusCode: 418, body: 'teapot' } } }", {
      annotations: WEB_TRUE,
    });
    const app = await web("guest/default/fails.http");
    expect(app.status).toBe(418);
    expect(app.text).toBe("teapot");
    const dev = await web("guest/default/fails.http?crash=1");
    expect(dev.status).toBe(400);
    expect(dev.body.error).toBe("There was an error processing your request.");
  });
});

describe("request handling", () => {
  it("merges JSON and form bodies over the query", async () => {
    const json = await web("guest/default/echo.json?a=query&b=query", { method: "POST", body: { b: "body", c: 3 } });
    expect(json.body).toMatchObject({ a: "query", b: "body", c: 3, __ow_method: "post" });
    const form = await web("guest/default/echo.json", {
      method: "POST",
      raw: "x=1&y=two",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(form.body).toMatchObject({ x: "1", y: "two" });
    const text = await web("guest/default/echo.json", { method: "POST", raw: "hello", headers: { "content-type": "text/plain" } });
    expect(text.body.__ow_body).toBe("hello");
  });

  it("passes raw requests undecoded", async () => {
    const res = await web("guest/default/rawecho.json?a=1&b=2", { method: "POST", body: { k: "v" } });
    expect(res.body.__ow_query).toBe("a=1&b=2");
    expect(atob(res.body.__ow_body)).toBe('{"k":"v"}');
    expect(res.body).not.toHaveProperty("a");
  });

  it("refuses requests that set final or reserved parameters", async () => {
    const final = await web("guest/default/echo.json?fixed=theirs");
    expect(final.status).toBe(400);
    expect(final.body.error).toBe("Request defines parameters that are not allowed (e.g., reserved properties).");
    const reserved = await web("guest/default/echo.json?__ow_method=put");
    expect(reserved.status).toBe(400);
  });

  it("only serves exported actions, in existing namespaces", async () => {
    expect((await web("guest/default/hidden.http")).status).toBe(404);
    expect((await web("guest/default/missing.json")).status).toBe(404);
    expect((await web("nobody/default/echo.json")).status).toBe(404);
    expect((await web("guest/default/hidden.http")).body.error).toBe("The requested resource does not exist.");
  });

  it("tells the action who called when credentials come along", async () => {
    const res = await web("guest/default/echo.json", { auth: OTHER_KEY });
    expect(res.body.__ow_user).toBe("other");
  });
});

describe("require-whisk-auth", () => {
  it("demands the secret header when the annotation is a string", async () => {
    await createAction("guarded", "function main() { return { ok: true } }", {
      annotations: [...WEB_TRUE, { key: "require-whisk-auth", value: "s3cret" }],
    });
    const denied = await web("guest/default/guarded.json");
    expect(denied.status).toBe(401);
    const wrong = await web("guest/default/guarded.json", { headers: { "x-require-whisk-auth": "nope" } });
    expect(wrong.status).toBe(401);
    const allowed = await web("guest/default/guarded.json", { headers: { "x-require-whisk-auth": "s3cret" } });
    expect(allowed.body).toEqual({ ok: true });
  });

  it("demands valid credentials when the annotation is true", async () => {
    await createAction("authed", "function main() { return { ok: true } }", {
      annotations: [...WEB_TRUE, { key: "require-whisk-auth", value: true }],
    });
    expect((await web("guest/default/authed.json")).status).toBe(401);
    expect((await web("guest/default/authed.json", { auth: GUEST_KEY })).body).toEqual({ ok: true });
  });
});

describe("CORS", () => {
  it("answers OPTIONS itself with OpenWhisk's headers", async () => {
    const res = await web("guest/default/echo.json", { method: "OPTIONS" });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-methods")).toBe("OPTIONS, GET, DELETE, POST, PUT, HEAD, PATCH");
    expect(res.headers.get("access-control-allow-headers")).toBe(
      "Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent",
    );
    const get = await web("guest/default/echo.json");
    expect(get.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("lets web-custom-options actions answer OPTIONS", async () => {
    await createAction(
      "custom",
      "function main(p) { return { headers: { 'Access-Control-Allow-Origin': 'example.com' }, body: p.__ow_method } }",
      { annotations: [...WEB_TRUE, { key: "web-custom-options", value: true }] },
    );
    const res = await web("guest/default/custom.http", { method: "OPTIONS" });
    expect(res.headers.get("access-control-allow-origin")).toBe("example.com");
    expect(res.text).toBe("options");
  });
});

describe("caching", () => {
  it("sees an update at once: an action made private stops being served", async () => {
    await createAction("flip", "function main() { return { v: 1 } }", { annotations: WEB_TRUE });
    expect((await web("guest/default/flip.json")).status).toBe(200);
    await call("PUT", "/api/v1/namespaces/_/actions/flip?overwrite=true", {
      body: { annotations: [{ key: "web-export", value: false }] },
    });
    expect((await web("guest/default/flip.json")).status).toBe(404);
    const records = await store().listActivations("guest", { name: "flip" }, { limit: 10, skip: 0 });
    expect(records.length).toBeLessThanOrEqual(1);
  });
});
