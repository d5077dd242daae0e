// The /whisk.system catalog every install has.
import { beforeAll, describe, expect, it } from "vitest";
import { call, OTHER_KEY, seedNamespaces } from "./helpers.js";

beforeAll(seedNamespaces);

const invoke = (action: string, params: unknown, auth?: string) =>
  call("POST", `/api/v1/namespaces/whisk.system/actions/${action}?blocking=true&result=true`, { body: params, auth });

describe("/whisk.system/utils", () => {
  it("echoes as in the chapter", async () => {
    const res = await invoke("utils/echo", { message: "hello" });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: "hello" });
  });

  it("provides the stock building blocks", async () => {
    expect((await invoke("utils/cat", { lines: ["a", "b"] })).body).toEqual({ lines: ["a", "b"], payload: "a\nb" });
    expect((await invoke("utils/head", { lines: [4, 2, 3], num: 2 })).body).toEqual({ lines: [4, 2], num: 2 });
    expect((await invoke("utils/sort", { lines: ["b", "c", "a"] })).body).toEqual({ lines: ["a", "b", "c"], length: 3 });
    expect((await invoke("utils/split", { payload: "one,two", separator: "," })).body).toEqual({
      lines: ["one", "two"],
      payload: "one,two",
    });
    expect((await invoke("utils/smash", { a: 1, $fieldName: "p" })).body).toEqual({ p: { a: 1 } });
    expect((await invoke("utils/namespace", {}, OTHER_KEY)).body).toEqual({ namespace: "other" });
    expect((await invoke("utils/date", {})).body.date).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect((await invoke("utils/hosturl", { web: true, path: "echo", ext: ".json" })).body).toEqual({
      url: "http://edgewhisk.test/api/v1/web/guest/default/echo.json",
    });
  });

  it("is published, readable by everyone and changeable by no one else", async () => {
    const pkg = await call("GET", "/api/v1/namespaces/whisk.system/packages/utils");
    expect(pkg.status).toBe(200);
    expect(pkg.body.publish).toBe(true);
    expect(pkg.body.actions.map((a: { name: string }) => a.name).sort()).toEqual(
      ["cat", "date", "echo", "head", "hosturl", "namespace", "smash", "sort", "split"],
    );
    const listed = await call("GET", "/api/v1/namespaces/whisk.system/packages");
    expect(listed.body.map((p: { name: string }) => p.name).sort()).toEqual(["alarms", "samples", "utils"]);
    const change = await call("PUT", "/api/v1/namespaces/whisk.system/actions/utils/echo?overwrite=true", {
      body: { exec: { kind: "nodejs:20", code: "function main(){return {}}" } },
    });
    expect(change.status).toBe(403);
  });

  it("lists the alarm feeds as feeds", async () => {
    const pkg = await call("GET", "/api/v1/namespaces/whisk.system/packages/alarms");
    expect(pkg.body.feeds.map((f: { name: string }) => f.name).sort()).toEqual(["alarm", "interval", "once"]);
    expect(pkg.body.actions).toEqual([]);
  });
});

describe("/whisk.system/samples", () => {
  it("greets as OpenWhisk's getting-started docs show", async () => {
    expect((await invoke("samples/greeting", { name: "Bernie", place: "Vermont" })).body).toEqual({ payload: "Hello, Bernie from Vermont!" });
    expect((await invoke("samples/greeting", {})).body).toEqual({ payload: "Hello, stranger from somewhere!" });
    expect((await invoke("samples/wordCount", { payload: "Five fuzzy felines" })).body).toEqual({ count: 3 });
    expect((await invoke("samples/wordCountAsync", { payload: "one two" })).body).toEqual({ count: 2 });
    expect((await invoke("samples/printParams", { x: 1, b: 5 })).body).toEqual({ params: { b: 5, x: 1 } });
  });

  it("logs hello, and calls the platform back through the preinstalled openwhisk module", async () => {
    const hello = await call("POST", "/api/v1/namespaces/whisk.system/actions/samples/helloWorld?blocking=true", { body: { payload: "Cat" } });
    expect(hello.body.response.result).toEqual({});
    expect(hello.body.logs).toEqual([expect.stringMatching(/ stdout: hello Cat!$/)]);
    expect((await invoke("samples/helloPromises", { name: "Cat", place: "Narrowsburg" })).body).toEqual({ lines: ["Hello,", "Cat", "from", "Narrowsburg!"] });
  });
});
