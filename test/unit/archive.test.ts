import { zipSync, strToU8 } from "fflate";
import { describe, expect, it } from "vitest";
import { archiveModules } from "../../src/runtime/archive.js";

function zip(files: Record<string, string>): string {
  const bytes = zipSync(Object.fromEntries(Object.entries(files).map(([name, text]) => [name, strToU8(text)])));
  return Buffer.from(bytes).toString("base64");
}

describe("zip actions", () => {
  it("rewrites specifiers to the files Node would resolve and loads as code only what is reachable", () => {
    const result = archiveModules(
      zip({
        "package.json": JSON.stringify({ main: "lib/app.js" }),
        "lib/app.js": "const dep = require('dep'); const util = require('./util'); const cfg = require('../config.json'); exports.main = () => ({})",
        "lib/util.js": "module.exports = 1",
        "config.json": '{"a":1}',
        "node_modules/dep/package.json": JSON.stringify({ main: "dist/index.js" }),
        "node_modules/dep/dist/index.js": "module.exports = require('./inner')",
        "node_modules/dep/dist/inner/index.js": "module.exports = require('fs') && 2",
        "node_modules/unused/index.js": "module.exports = 3",
      }),
      "main",
    );
    expect(result.entry).toBe("action/lib/app.js");
    expect(Object.keys(result.modules).sort()).toEqual([
      "action/config.json",
      "action/lib/app.js",
      "action/lib/util.js",
      "action/node_modules/dep/dist/index.js",
      "action/node_modules/dep/dist/inner/index.js",
      "action/node_modules/dep/package.json",
      "action/package.json",
    ]);
    expect(result.modules["action/package.json"]).toHaveProperty("data");
    const app = (result.modules["action/lib/app.js"] as { cjs: string }).cjs;
    expect(app).toContain("require('../node_modules/dep/dist/index.js')");
    expect(app).toContain("require('./util.js')");
    expect(app).toContain("require('../config.json')");
    expect((result.modules["action/node_modules/dep/dist/inner/index.js"] as { cjs: string }).cjs).toContain("require('fs')");
    expect(result.modules["action/config.json"]).toEqual({ json: { a: 1 } });
  });

  it("takes the module from exec.main's module.fn form and loads ES module packages as such", () => {
    const result = archiveModules(
      zip({
        "package.json": JSON.stringify({ type: "module" }),
        "handler.js": "import { x } from './lib/x.js'; export function run() { return { x } }",
        "lib/x.js": "export const x = 1",
      }),
      "handler.run",
    );
    expect(result).toMatchObject({ entry: "action/handler.js", entryIsEsm: true, mainName: "run" });
    expect(result.modules["action/lib/x.js"]).toEqual({ js: "export const x = 1" });
  });

  it("refuses archives without an entry, and what is not a zip", () => {
    expect(() => archiveModules(zip({ "other.js": "" }), "main")).toThrow(
      "Zipped actions must contain either package.json or index.js at the root.",
    );
    expect(() => archiveModules(Buffer.from([0x1f, 0x8b, 8, 0]).toString("base64"), "main")).toThrow(
      "There was an error uncompressing the action archive. The file type is unsupported",
    );
  });

  it("points requires of a preinstalled package it does not bundle at the root module, and prefers its own copy", () => {
    const provided = archiveModules(
      zip({ "index.js": 'const ow = require("openwhisk");\nexports.main = require("./lib/deep/x.js").main;', "lib/deep/x.js": "const o = require('openwhisk'); exports.main = () => ({});" }),
      "main",
      ["openwhisk"],
    );
    expect(provided.preinstalled).toEqual(["openwhisk"]);
    expect(provided.modules["action/index.js"]).toEqual({ cjs: expect.stringContaining('require("../openwhisk")') });
    expect(provided.modules["action/lib/deep/x.js"]).toEqual({ cjs: expect.stringContaining("require('../../../openwhisk')") });

    const bundled = archiveModules(
      zip({ "index.js": 'const ow = require("openwhisk"); exports.main = () => ({});', "node_modules/openwhisk/index.js": "module.exports = 1;" }),
      "main",
      ["openwhisk"],
    );
    expect(bundled.preinstalled).toEqual([]);
    expect(bundled.modules["action/index.js"]).toEqual({ cjs: expect.stringContaining('require("./node_modules/openwhisk/index.js")') });
  });

  it("keeps the archive's other files as data, and gives CommonJS modules a __dirname under /bundle on their first line", () => {
    const result = archiveModules(
      zip({
        "index.js": '"use strict";\nexports.main = () => ({});',
        "lib/plain.js": "module.exports = 1;\n",
        "template.html": "<p>hi</p>",
        "node_modules/dep/index.js": "module.exports = 2;",
        "node_modules/dep/README.md": "docs",
        "node_modules/dep/package.json": "{}",
      }),
      "main",
    );
    expect(result.modules["action/index.js"]).toEqual({
      cjs: '"use strict"; var __filename = "/bundle/action/index.js", __dirname = "/bundle/action";\nexports.main = () => ({});',
    });
    expect(new TextDecoder().decode((result.modules["action/template.html"] as { data: ArrayBuffer }).data)).toBe("<p>hi</p>");
    expect(result.modules["action/lib/plain.js"]).toHaveProperty("data");
    expect(result.modules["action/node_modules/dep/package.json"]).toHaveProperty("data");
    expect(result.modules).not.toHaveProperty("action/node_modules/dep/README.md");
    expect(result.modules).not.toHaveProperty("action/node_modules/dep/index.js");
  });

  it("gives ES modules a file URL and paths under /bundle for import.meta", () => {
    const result = archiveModules(
      zip({ "package.json": JSON.stringify({ type: "module" }), "index.js": "export const main = () => ({ u: import.meta.url, d: import.meta.dirname, f: import.meta.filename });" }),
      "main",
    );
    expect(result.modules["action/index.js"]).toEqual({
      js: 'export const main = () => ({ u: "file:///bundle/action/index.js", d: "/bundle/action", f: "/bundle/action/index.js" });',
    });
  });
});
