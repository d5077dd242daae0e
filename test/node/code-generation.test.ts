// Code generation from strings in real workerd children, as each host sets
// it up (src/invoker/code-generation.ts): the Node host grants action
// isolates eval; npm start's children, like deployed Workers, refuse it and
// get the function sources precompiled. The conductor is the one
// openwhisk-composer generates: a composition made only of functions runs
// in one activation of it.
import { readFileSync } from "node:fs";
import composer from "openwhisk-composer";
import { generate } from "openwhisk-composer/conductor.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { preinstalled, runnerSource } from "../../src/node/runner-source.js";
import { WorkerdSupervisor } from "../../src/node/workerd/supervisor.js";
import type { CodeGeneration, IsolateSpec } from "../../src/ports/isolate-host.js";
import { actionModules } from "../../src/runtime/modules.js";
import { findFunctionLiterals } from "../../src/runtime/function-literals.js";
import { withPrecompiledFunctions } from "../../src/runtime/precompiled-eval.js";
import type { RunRequest } from "../../src/runtime/protocol.js";

const shimSource = readFileSync(new URL("../../src/runtime/isolate/precompiled-eval.js", import.meta.url), "utf8");

/** The let variable the functions below share: it exists in the conductor, not here. */
declare let k: number;

const CONDUCTOR = generate({
  name: "c",
  ...composer
    .let({ k: 5 }, (p: { n: number }) => ({ v: p.n + k++ }), composer.if((p: { v: number }) => p.v > 10, (p: object) => ({ ...p, k, big: true })))
    .compile(),
}).action.exec.code;
const ANY_STRING = "function main(p) { return { value: eval(p.code), made: new Function('a', p.body)(2) } }";

let keys = 0;
function spec(code: string, codeGeneration: CodeGeneration): IsolateSpec {
  const build = async () => {
    const set = actionModules(runnerSource, { code, binary: false, main: "main" }, preinstalled);
    return codeGeneration === "precompiled" ? withPrecompiledFunctions(set, findFunctionLiterals(code), shimSource) : set;
  };
  return { key: `code-generation-${keys++}`, memoryMb: 256, timeoutMs: 10_000, codeGeneration, build };
}

function runRequest(params: Record<string, unknown>): RunRequest {
  return {
    params,
    initEnv: {},
    mainName: "main",
    activationId: "c".repeat(32),
    transactionId: "t",
    namespace: "guest",
    actionName: "/guest/c",
    actionVersion: "0.0.1",
    apiHost: "http://127.0.0.1",
    deadline: Date.now() + 10_000,
    logLimitBytes: 1024 * 1024,
  };
}

describe("code generation in workerd children", () => {
  const supervisor = new WorkerdSupervisor({ memoryLimitMb: 512, children: 1 });

  beforeAll(() => supervisor.start());
  afterAll(() => supervisor.stop());

  it("runs composer's conductor with its let variables on both hosts' settings", async () => {
    for (const codeGeneration of ["native", "precompiled"] as const) {
      const { reply } = await supervisor.run(spec(CONDUCTOR, codeGeneration), runRequest({ n: 7 }));
      expect(reply, codeGeneration).toMatchObject({ outcome: "result", result: { params: { v: 12, k: 6, big: true } } });
    }
  });

  it("evaluates any string where the host grants eval, and refuses it with the runtime's EvalError where not", async () => {
    const params = { code: "6 * 7", body: "return a * 21" };
    const native = await supervisor.run(spec(ANY_STRING, "native"), runRequest(params));
    expect(native.reply).toMatchObject({ outcome: "result", result: { value: 42, made: 42 } });
    const refused = await supervisor.run(spec(ANY_STRING, "precompiled"), runRequest(params));
    expect(refused.reply).toMatchObject({
      outcome: "developer",
      message: "An error has occurred: EvalError: Code generation from strings disallowed for this context",
    });
  });
});
