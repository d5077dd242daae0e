// Packages, bindings, shared packages and parameter precedence.
import { beforeAll, describe, expect, it } from "vitest";
import { call, createAction, OTHER_KEY, seedNamespaces } from "./helpers.js";

beforeAll(seedNamespaces);

const pkgs = "/api/v1/namespaces/_/packages";
const echo = "function main(p) { return p }";

async function createPackage(name: string, body: unknown = {}, auth?: string) {
  const res = await call("PUT", `${pkgs}/${name}`, { body, auth });
  if (res.status !== 200) throw new Error(`package ${name}: ${res.status} ${res.text}`);
  return res.body;
}

describe("packages", () => {
  it("creates a package and lists its actions and feeds on GET", async () => {
    const created = await createPackage("demo", { parameters: [{ key: "p", value: 1 }] });
    expect(created).toEqual({
      namespace: "guest",
      name: "demo",
      version: "0.0.1",
      publish: false,
      binding: {},
      parameters: [{ key: "p", value: 1 }],
      annotations: [],
      updated: expect.any(Number),
    });
    await createAction("demo/hello", echo);
    await createAction("demo/changes", echo, { annotations: [{ key: "feed", value: true }] });
    const got = await call("GET", `${pkgs}/demo`);
    expect(got.status).toBe(200);
    expect(got.body.actions).toEqual([{ name: "hello", version: "0.0.1", annotations: expect.any(Array) }]);
    expect(got.body.feeds.map((f: { name: string }) => f.name)).toEqual(["changes"]);
    const action = await call("GET", "/api/v1/namespaces/_/actions/demo/hello");
    expect(action.body.namespace).toBe("guest/demo");
  });

  it("lists packages with the binding field and counts them", async () => {
    await createPackage("listed");
    const list = await call("GET", pkgs);
    const item = list.body.find((p: { name: string }) => p.name === "listed");
    expect(item).toMatchObject({ namespace: "guest", name: "listed", binding: false, publish: false });
    expect(item).not.toHaveProperty("parameters");
    expect((await call("GET", `${pkgs}?count=true`)).body).toEqual({ packages: list.body.length });
  });

  it("refuses to delete a package with actions unless forced", async () => {
    await createPackage("full");
    await createAction("full/one", echo);
    const refused = await call("DELETE", `${pkgs}/full`);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toBe("Package not empty (contains 1 entity). Set force param or delete package contents.");
    expect((await call("GET", "/api/v1/namespaces/_/actions/full/one")).status).toBe(200);
    const forced = await call("DELETE", `${pkgs}/full?force=true`);
    expect(forced.status).toBe(200);
    expect((await call("GET", "/api/v1/namespaces/_/actions/full/one")).status).toBe(404);
  });

  it("reserves the name default and refuses actions in missing packages", async () => {
    const reserved = await call("PUT", `${pkgs}/default`, { body: {} });
    expect(reserved.status).toBe(400);
    expect(reserved.body.error).toBe("Package name 'default' is reserved.");
    const orphan = await call("PUT", "/api/v1/namespaces/_/actions/nowhere/a", { body: { exec: { kind: "nodejs:20", code: echo } } });
    expect(orphan.status).toBe(404);
  });

  it("invokes package actions with package parameters under the action's and the invocation's", async () => {
    await createPackage("layers", { parameters: [{ key: "a", value: "package" }, { key: "b", value: "package" }, { key: "c", value: "package" }] });
    await createAction("layers/show", echo, { parameters: [{ key: "b", value: "action" }, { key: "c", value: "action" }] });
    const res = await call("POST", "/api/v1/namespaces/_/actions/layers/show?blocking=true&result=true", { body: { c: "invoke" } });
    expect(res.body).toEqual({ a: "package", b: "action", c: "invoke" });
  });
});

describe("bindings", () => {
  it("binds a package, merging package < binding < action < invocation parameters", async () => {
    await createPackage("base", { parameters: [{ key: "a", value: "package" }, { key: "b", value: "package" }] });
    await createAction("base/show", echo, { parameters: [{ key: "c", value: "action" }] });
    const binding = await createPackage("mine", {
      binding: { namespace: "_", name: "base" },
      parameters: [{ key: "b", value: "binding" }, { key: "c", value: "binding" }],
    });
    expect(binding.binding).toEqual({ namespace: "guest", name: "base" });
    expect(binding.annotations).toContainEqual({ key: "binding", value: { namespace: "guest", name: "base" } });
    const res = await call("POST", "/api/v1/namespaces/_/actions/mine/show?blocking=true", { body: { d: "invoke" } });
    expect(res.body.response.result).toEqual({ a: "package", b: "binding", c: "action", d: "invoke" });
    expect(res.body.annotations).toContainEqual({ key: "binding", value: "guest/mine" });
    expect(res.body.annotations).toContainEqual({ key: "path", value: "guest/base/show" });
    const got = await call("GET", `${pkgs}/mine`);
    expect(got.body.actions.map((a: { name: string }) => a.name)).toEqual(["show"]);
  });

  it("refuses bindings to missing packages, to bindings and to unshared packages, storing nothing", async () => {
    const missing = await call("PUT", `${pkgs}/b1`, { body: { binding: { namespace: "guest", name: "nope" } } });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe("Binding references a package that does not exist.");
    await createPackage("target");
    await createPackage("b2", { binding: { namespace: "guest", name: "target" } });
    const toBinding = await call("PUT", `${pkgs}/b3`, { body: { binding: { namespace: "guest", name: "b2" } } });
    expect(toBinding.status).toBe(400);
    expect(toBinding.body.error).toBe("Cannot bind to another package binding.");
    await createPackage("secret", {}, OTHER_KEY);
    const unshared = await call("PUT", `${pkgs}/b4`, { body: { binding: { namespace: "other", name: "secret" } } });
    expect(unshared.status).toBe(403);
    for (const name of ["b1", "b3", "b4"]) expect((await call("GET", `${pkgs}/${name}`)).status).toBe(404);
  });

  it("never turns a package into a binding and refuses actions in bindings", async () => {
    await createPackage("solid");
    const convert = await call("PUT", `${pkgs}/solid?overwrite=true`, { body: { binding: { namespace: "guest", name: "base" } } });
    expect(convert.status).toBe(409);
    expect(convert.body.error).toBe("Resource is a package and cannot be converted into a binding.");
    await createPackage("bound", { binding: { namespace: "guest", name: "solid" } });
    const inBinding = await call("PUT", "/api/v1/namespaces/_/actions/bound/x", { body: { exec: { kind: "nodejs:20", code: echo } } });
    expect(inBinding.status).toBe(400);
    expect(inBinding.body.error).toBe("Operation not permitted on package binding.");
  });
});

describe("shared packages across namespaces", () => {
  it("lets another namespace read and invoke actions of a published package but never change them", async () => {
    await createPackage("public", { publish: true, parameters: [{ key: "owner", value: "guest" }] });
    await createAction("public/hi", "function main(p) { return { hi: p.name, owner: p.owner } }");
    const base = "/api/v1/namespaces/guest";
    const invoked = await call("POST", `${base}/actions/public/hi?blocking=true`, { auth: OTHER_KEY, body: { name: "other" } });
    expect(invoked.status).toBe(200);
    expect(invoked.body.response.result).toEqual({ hi: "other", owner: "guest" });
    expect(invoked.body.namespace).toBe("other");
    expect((await call("GET", `${base}/actions/public/hi`, { auth: OTHER_KEY })).status).toBe(200);
    expect((await call("GET", `${base}/packages/public`, { auth: OTHER_KEY })).status).toBe(200);
    const listed = await call("GET", `${base}/packages`, { auth: OTHER_KEY });
    expect(listed.body.map((p: { name: string }) => p.name)).toEqual(["public"]);
    const change = await call("PUT", `${base}/actions/public/hi?overwrite=true`, {
      auth: OTHER_KEY,
      body: { exec: { kind: "nodejs:20", code: echo } },
    });
    expect(change.status).toBe(403);
    expect((await call("DELETE", `${base}/actions/public/hi`, { auth: OTHER_KEY })).status).toBe(403);
    expect((await call("DELETE", `${base}/packages/public`, { auth: OTHER_KEY })).status).toBe(403);

    const binding = await createPackage("theirs", { binding: { namespace: "guest", name: "public" } }, OTHER_KEY);
    expect(binding.binding).toEqual({ namespace: "guest", name: "public" });
    const viaBinding = await call("POST", "/api/v1/namespaces/_/actions/theirs/hi?blocking=true&result=true", {
      auth: OTHER_KEY,
      body: { name: "bound" },
    });
    expect(viaBinding.body).toEqual({ hi: "bound", owner: "guest" });
  });

  it("hides unshared packages and their actions from other namespaces", async () => {
    await createPackage("hidden");
    await createAction("hidden/x", echo);
    const res = await call("POST", "/api/v1/namespaces/guest/actions/hidden/x?blocking=true", { auth: OTHER_KEY });
    expect(res.status).toBe(403);
    expect(res.body.error).toBe("The supplied authentication is not authorized to access 'guest/hidden/x'.");
    expect((await call("GET", "/api/v1/namespaces/guest/packages/hidden", { auth: OTHER_KEY })).status).toBe(403);
    expect((await call("GET", "/api/v1/namespaces/guest/packages/nothere", { auth: OTHER_KEY })).status).toBe(403);
  });
});

describe("listing a package's actions", () => {
  it("answers GET actions/{pkg}/ with only that package's actions, as wsk action list pkg asks", async () => {
    await createPackage("listing");
    await createAction("listing/one", echo);
    await createAction("outside", echo);
    const res = await call("GET", "/api/v1/namespaces/_/actions/listing/?limit=30&skip=0");
    expect(res.status).toBe(200);
    expect(res.body.map((a: { name: string; namespace: string }) => `${a.namespace}/${a.name}`)).toEqual(["guest/listing/one"]);
  });
});
