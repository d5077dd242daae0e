import { describe, expect, it } from "vitest";
import { actionModules, isEsModule } from "../../src/runtime/modules.js";

describe("action module detection", () => {
  it("recognises ES modules", () => {
    expect(isEsModule("export function main() {}")).toBe(true);
    expect(isEsModule("export default function () {}")).toBe(true);
    expect(isEsModule("import x from 'y';\nexport const main = x;")).toBe(true);
  });

  it("treats plain scripts and CommonJS as scripts", () => {
    expect(isEsModule("function main() {}")).toBe(false);
    expect(isEsModule("exports.main = () => ({})")).toBe(false);
    expect(isEsModule("// export function main\nfunction main() { return { text: 'export default' } }")).toBe(false);
  });

  it("loads scripts as CommonJS exporting the main function", () => {
    const { modules } = actionModules("runner", { code: "function hello() {}", binary: false, main: "hello" });
    expect(modules["action.js"]).toHaveProperty("cjs");
    expect((modules["action.js"] as { cjs: string }).cjs).toContain('typeof hello === "function"');
  });

  it("adds a preinstalled package as a root module only to scripts that name it", () => {
    const preinstalled = { openwhisk: "module.exports = 'client'" };
    const uses = actionModules("runner", { code: 'const ow = require("openwhisk")();\nfunction main() {}', binary: false, main: "main" }, preinstalled);
    expect(uses.modules.openwhisk).toEqual({ cjs: "module.exports = 'client'" });
    const esm = actionModules("runner", { code: "import openwhisk from 'openwhisk';\nexport function main() {}", binary: false, main: "main" }, preinstalled);
    expect(esm.modules.openwhisk).toEqual({ cjs: "module.exports = 'client'" });
    const plain = actionModules("runner", { code: "function main() { return { openwhisk: true } }", binary: false, main: "main" }, preinstalled);
    expect(plain.modules).not.toHaveProperty("openwhisk");
  });
});
