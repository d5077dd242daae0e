// Malformed requests get a 4xx with OpenWhisk's {error, code} body and
// change nothing — never a 500 (inside workerd, real D1).
import { beforeAll, describe, expect, it } from "vitest";
import { call, createAction, seedNamespaces } from "./helpers.js";

beforeAll(seedNamespaces);

const deep = (depth: number) => JSON.parse("[".repeat(depth) + "]".repeat(depth));

async function expectRefused(method: string, path: string, options: Parameters<typeof call>[2] = {}, status = 400) {
  const res = await call(method, path, options);
  expect(res.status, `${method} ${path}: ${res.text.slice(0, 200)}`).toBe(status);
  expect(res.body).toMatchObject({ error: expect.any(String), code: expect.any(String) });
  return res;
}

describe("bad input", () => {
  it("answers out-of-range list numbers with OpenWhisk's 400s", async () => {
    for (const collection of ["actions", "packages", "triggers", "rules", "activations"]) {
      const res = await expectRefused("GET", `/api/v1/namespaces/_/${collection}?skip=99999999999999999999`);
      expect(res.body.error).toBe(`The value '99999999999999999999' is not an integer for ${collection}.`);
      await expectRefused("GET", `/api/v1/namespaces/_/${collection}?limit=99999999999999999999`);
    }
    for (const field of ["since", "upto"]) {
      const res = await expectRefused("GET", `/api/v1/namespaces/_/activations?${field}=99999999999999999999999`);
      expect(res.body.error).toBe("Parameter is not a valid value for epoch seconds: 99999999999999999999999");
    }
  });

  it("refuses JSON nested past the bound at the edge, storing and running nothing", async () => {
    await createAction("deep-echo", "function main(p) { return { keys: Object.keys(p) } }");
    await expectRefused("POST", "/api/v1/namespaces/_/actions/deep-echo?blocking=true", { body: { p: deep(5_000) } });
    await expectRefused("PUT", "/api/v1/namespaces/_/actions/deep-stored", {
      body: { exec: { kind: "nodejs:default", code: "function main() { return {} }" }, parameters: [{ key: "p", value: deep(100_000) }] },
    });
    expect((await call("GET", "/api/v1/namespaces/_/actions/deep-stored")).status).toBe(404);
    await expectRefused("POST", "/api/v1/namespaces/_/triggers/none-such", { body: { p: deep(3_000) } });
    const ok = await call("POST", "/api/v1/namespaces/_/actions/deep-echo?blocking=true&result=true", { body: { p: deep(50) } });
    expect(ok.body).toEqual({ keys: ["p"] });
  });

  it("refuses names with an encoded slash or a NUL instead of storing what cannot be fetched", async () => {
    for (const collection of ["triggers", "rules", "packages", "actions"]) {
      await expectRefused("PUT", `/api/v1/namespaces/_/${collection}/x%2Fy`, { body: {} });
      const listed = await call("GET", `/api/v1/namespaces/_/${collection}?limit=200`);
      expect(listed.body.map((e: { name: string }) => e.name)).not.toContain("y");
    }
    await expectRefused("GET", "/api/v1/namespaces/gu%00est/packages");
    await expectRefused("GET", "/api/v1/namespaces/_/actions/a%00b");
  });

  it("requires a semantic version in PUT bodies, as OpenWhisk does", async () => {
    const res = await expectRefused("PUT", "/api/v1/namespaces/_/triggers/versioned", { body: { version: "not-semver" } });
    expect(res.body.error).toBe("The request content was malformed:\nsemantic version malformed (at 'version')");
    expect((await call("GET", "/api/v1/namespaces/_/triggers/versioned")).status).toBe(404);
    const stored = await call("PUT", "/api/v1/namespaces/_/triggers/versioned", { body: { version: "2.1" } });
    expect(stored.body.version).toBe("2.1.0");
  });
});

describe("a slash inside the namespace segment, as OpenWhisk reads it", () => {
  it("lists another namespace's public packages by /ns and reaches a package's actions by ns/pkg", async () => {
    const system = await call("GET", "/api/v1/namespaces/%2Fwhisk.system/packages");
    expect(system.status).toBe(200);
    expect(system.body.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(["utils", "samples"]));

    expect((await call("PUT", "/api/v1/namespaces/_/packages/slashed?overwrite=true", { body: {} })).status).toBe(200);
    await createAction("slashed/color", "function main() { return { color: 'red' } }");
    const listed = await call("GET", "/api/v1/namespaces/guest%2Fslashed/actions");
    expect(listed.body.map((a: { name: string }) => a.name)).toEqual(["color"]);
    const got = await call("GET", "/api/v1/namespaces/guest%2Fslashed/actions/color");
    expect(got.body).toMatchObject({ name: "color", namespace: "guest/slashed" });
    const deleted = await call("DELETE", "/api/v1/namespaces/guest%2Fslashed/actions/color");
    expect(deleted.status).toBe(200);
    expect((await call("GET", "/api/v1/namespaces/_/actions/slashed/color")).status).toBe(404);
    await expectRefused("GET", "/api/v1/namespaces/guest%2Fa%2Fb/actions");
  });
});
