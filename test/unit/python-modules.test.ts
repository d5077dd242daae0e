// A Python action's module set, and how much its isolates weigh in a workerd child.
import { strToU8, zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { bytesToBase64 } from "../../src/core/base64.js";
import { isolateLoaderFlags } from "../../src/invoker/code-generation.js";
import { isolateLoad, PYTHON_ISOLATE_WEIGHT, shouldRotate } from "../../src/node/workerd/placement.js";
import { decodeModules, encodeModules } from "../../src/runtime/module-wire.js";
import { actionModules } from "../../src/runtime/modules.js";

const build = (code: string, binary = false, kind = "python:3.11") =>
  actionModules("// node runner", { code, binary, main: "main", kind }, {}, "// python runner");

describe("Python module sets", () => {
  it("loads a script as action.py under the Python runner, without nodejs_compat", () => {
    const set = build("def main(args):\n    return args\n");
    expect(set.mainModule).toBe("python-runner.js");
    expect(set.modules).toEqual({
      "python-runner.js": { js: "// python runner" },
      "python-action.json": { json: { archive: false } },
      "action.py": { text: "def main(args):\n    return args\n" },
    });
    expect(set.python).toBe(true);
    // Whatever code generation the host grants Node isolates.
    expect(isolateLoaderFlags("native", set)).toEqual({ compatibilityFlags: [] });
    expect(isolateLoaderFlags("precompiled", build("function main() {}", false, "nodejs:20"))).toEqual({ compatibilityFlags: ["nodejs_compat"] });
  });

  it("hands a zip to the runner as it is, and a broken one as the init's error", () => {
    const zip = zipSync({ "__main__.py": strToU8("def main(a):\n    return a\n") });
    const set = build(bytesToBase64(zip), true);
    expect(new Uint8Array((set.modules["action.zip"] as { data: ArrayBuffer }).data)).toEqual(zip);
    expect(set.modules["python-action.json"]).toEqual({ json: { archive: true } });
    expect(build(bytesToBase64(strToU8("not a zip at all")), true).modules["python-action.json"]).toEqual({
      json: { initError: "There was an error uncompressing the action archive. The file type is unsupported" },
    });
  });

  it("keeps the Python mark across the wire to a workerd child", () => {
    const wire = encodeModules(build(bytesToBase64(zipSync({ "__main__.py": strToU8("") })), true));
    expect(wire.python).toBe(true);
    expect(decodeModules(JSON.parse(JSON.stringify(wire))).python).toBe(true);
    expect(encodeModules(build("function main() {}", false, "nodejs:20")).python).toBeUndefined();
  });

  it("counts a Python isolate as many Node ones when deciding a child's rotation", () => {
    expect(isolateLoad(10, 0)).toBe(10);
    expect(isolateLoad(10, 2)).toBe(10 + 2 * (PYTHON_ISOLATE_WEIGHT - 1));
    const rotates = (isolates: number, python: number) =>
      shouldRotate({ baselineMb: 100, capMb: 1024, loadedIsolates: isolateLoad(isolates, python), maxIsolates: 512 });
    expect(rotates(40, 0)).toBe(false);
    expect(rotates(40, 40)).toBe(true);
  });
});
