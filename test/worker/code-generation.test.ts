// Code generation from strings on the Cloudflare host, in real Worker Loader
// isolates (which refuse it at run time): function sources the code carries
// as literals are precompiled and handed back by eval and new Function;
// every other string is refused with the runtime's own EvalError.
import { beforeAll, describe, expect, it } from "vitest";
import { call, createAction, seedNamespaces } from "./helpers.js";

const REFUSED = "EvalError: Code generation from strings disallowed for this context";

beforeAll(async () => {
  await seedNamespaces();
  await createAction(
    "evalKnown",
    `const DOUBLE = "p => ({ doubled: p.n * 2, thisIsGlobal: this === globalThis })";
    function main(p) {
      const first = eval(DOUBLE), second = (0, eval)(DOUBLE);
      return { ...first(p), distinct: first !== second, isFunction: first instanceof Function };
    }`,
  );
  await createAction(
    "functionKnown",
    `function main(p) {
      const add = new Function("a", "b", "return { sum: a + b }");
      return { ...add(p.a, p.b), source: add.toString(), isFunction: add instanceof Function };
    }`,
  );
  await createAction(
    "evalUnknown",
    `const KNOWN = "x => x";
    function main(p) { return { value: eval(p.code) } }`,
  );
  await createAction("evalWithoutLiterals", "function main(p) { return { value: eval(p.code) } }");
});

const invoke = (name: string, body: unknown) => call("POST", `/api/v1/namespaces/_/actions/${name}?blocking=true`, { body });

describe("code generation in Cloudflare isolates", () => {
  it("eval hands back a function the code carries as a literal, a new one each time", async () => {
    const res = await invoke("evalKnown", { n: 21 });
    expect(res.body.response).toMatchObject({ status: "success", result: { doubled: 42, thisIsGlobal: true, distinct: true, isFunction: true } });
  });

  it("new Function with literal arguments hands back the function those arguments make", async () => {
    const res = await invoke("functionKnown", { a: 2, b: 3 });
    expect(res.body.response).toMatchObject({
      status: "success",
      result: { sum: 5, source: "function anonymous(a,b\n) {\nreturn { sum: a + b }\n}", isFunction: true },
    });
  });

  it("refuses any other string with the runtime's own EvalError, shim or not", async () => {
    for (const name of ["evalUnknown", "evalWithoutLiterals"]) {
      const res = await invoke(name, { code: "1 + 1" });
      expect(res.body.response).toMatchObject({ status: "action developer error", result: { error: `An error has occurred: ${REFUSED}` } });
    }
    // A known source with a byte more is another string.
    const res = await invoke("evalUnknown", { code: "x => x " });
    expect(res.body.response.result.error).toBe(`An error has occurred: ${REFUSED}`);
  });

  it("passes a value that is not a string through, as eval does", async () => {
    const res = await invoke("evalUnknown", { code: { not: "a string" } });
    expect(res.body.response).toMatchObject({ status: "success", result: { value: { not: "a string" } } });
  });
});
