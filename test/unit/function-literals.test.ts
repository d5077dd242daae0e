// Finding the function sources an action's code carries as literals
// (src/runtime/function-literals.ts), and the module set that precompiles
// them (src/runtime/precompiled-eval.ts).
import composer from "openwhisk-composer";
import { generate } from "openwhisk-composer/conductor.js";
import { describe, expect, it } from "vitest";
import { findFunctionLiterals, isFunctionSource, MAX_SEARCHED_CODE_CHARS } from "../../src/runtime/function-literals.js";
import { actionModules } from "../../src/runtime/modules.js";
import { FunctionLiteralsByDigest, PRECOMPILED_MAIN_MODULE, withPrecompiledFunctions } from "../../src/runtime/precompiled-eval.js";

/** The conductor action code openwhisk-composer deploys for a composition. */
function conductorCode(composition: { compile(): object }): string {
  return generate({ name: "c", ...composition.compile() }).action.exec.code;
}

describe("function sources a composition carries", () => {
  it("finds every function combinator of a conductor composer generated, and nothing of composer's own runtime", () => {
    const positive = (p: { n: number }) => p.n > 0;
    const double = function double(p: { n: number }) {
      return { n: p.n * 2 };
    };
    const code = conductorCode(composer.if(positive, composer.function(double), composer.retry(2, "flaky")));
    const { expressions } = findFunctionLiterals(code);
    // composer keeps each function as its source text (Function.prototype.toString).
    expect(expressions).toContain(String(positive));
    expect(expressions).toContain(String(double));
    // retry's own combinators are functions too, one of them reading its let variable `count`.
    expect(expressions).toContain("({ result }) => result.error !== undefined && count-- > 0");
    // composer's runtime strings (the step text, messages) are not function sources.
    expect(expressions.some((s) => s.includes("arguments[2]"))).toBe(false);
  });

  it("takes a literal only when it is exactly one function, arrow or class expression", () => {
    expect(isFunctionSource("x => x + 1")).toBe(true);
    expect(isFunctionSource("function (a) { return a }")).toBe(true);
    expect(isFunctionSource("async function named() {}")).toBe(true);
    expect(isFunctionSource("class { m() {} }")).toBe(true);
    expect(isFunctionSource("(x) => x // trailing comment")).toBe(true);
    expect(isFunctionSource("hello world, this function is not code")).toBe(false);
    expect(isFunctionSource("1 + 1")).toBe(false);
    // Text that would close the parentheses it is compiled in and add code beside them.
    expect(isFunctionSource("x => x), (globalThis.pwned = 1")).toBe(false);
    expect(isFunctionSource("x => x)\n;globalThis.pwned = 1;(0")).toBe(false);
    expect(isFunctionSource("x => x) || (y => y")).toBe(false);
  });

  it("finds Function calls whose arguments are all literals, and string templates without substitutions", () => {
    const code = [
      'const add = new Function("a", "b", "return a + b");',
      'const probe = Function(""), none = Function();',
      'const method = api.Function("c", "return c");',
      'const nested = Function(Function("d", "return d"));',
      "const dynamic = new Function(\"a\", 'return a' + suffix);",
      "const template = `p => p.value`;",
      "const substituted = `p => p.${field}`;",
      "function main(p) { return eval(template)(p) }",
    ].join("\n");
    const found = findFunctionLiterals(code);
    // Not the empty ones: libraries probe with them whether code generation works.
    expect(found.functionCalls).toEqual([["a", "b", "return a + b"], ["d", "return d"]]);
    expect(found.expressions).toEqual(["p => p.value"]);
  });

  it("reads ES modules too", () => {
    const found = findFunctionLiterals('export function main(p) { return eval("q => q")(p) }');
    expect(found.expressions).toEqual(["q => q"]);
  });

  it("reads code once per digest", () => {
    const cache = new FunctionLiteralsByDigest();
    expect(cache.of('eval("x => x")', "d1").expressions).toEqual(["x => x"]);
    // Same digest, same code by definition: the first answer stands.
    expect(cache.of('eval("y => y")', "d1").expressions).toEqual(["x => x"]);
    expect(cache.of('eval("y => y")', "d2").expressions).toEqual(["y => y"]);
  });

  it("does not read code that calls neither eval nor Function, code too large, or code that does not tokenize", () => {
    expect(findFunctionLiterals('const f = "x => x"; function main() {}').expressions).toEqual([]);
    // Naming Function is not calling it.
    expect(findFunctionLiterals('const f = "x => x"; const p = Function.prototype;').expressions).toEqual([]);
    const large = `eval("x => x");${" ".repeat(MAX_SEARCHED_CODE_CHARS)}`;
    expect(findFunctionLiterals(large).expressions).toEqual([]);
    expect(findFunctionLiterals('eval("x => x"); const s = "unterminated').expressions).toEqual([]);
  });
});

describe("the module set of an action with function sources", () => {
  const shim = "export function installPrecompiledEval() {}";

  it("loads the shim and the sources, as data, before the runner", () => {
    const code = 'function main(p) { return eval("p => ({ n: p.n })")(p) }';
    const set = withPrecompiledFunctions(actionModules("runner", { code, binary: false, main: "main" }), findFunctionLiterals(code), shim);
    expect(set.mainModule).toBe(PRECOMPILED_MAIN_MODULE);
    const main = (set.modules[PRECOMPILED_MAIN_MODULE] as { js: string }).js;
    expect(main.indexOf("./precompiled-functions.js")).toBeLessThan(main.indexOf("./runner.js"));
    expect(set.modules["precompiled-eval.js"]).toEqual({ js: shim });
    const functions = (set.modules["precompiled-functions.js"] as { js: string }).js;
    expect(functions).toContain(JSON.stringify({ expressions: ["p => ({ n: p.n })"], functionCalls: [] }));
    expect(set.modules["action.js"]).toHaveProperty("cjs");
  });

  it("leaves an action without function sources as it was", () => {
    const code = "function main(p) { return p }";
    const set = actionModules("runner", { code, binary: false, main: "main" });
    expect(withPrecompiledFunctions(set, findFunctionLiterals(code), shim)).toBe(set);
  });
});
