import { zipSync, strToU8 } from "fflate";
import { describe, expect, it } from "vitest";
import { ARCHIVE_BOUNDS, archiveBoundsViolation, archiveModules } from "../../src/runtime/archive.js";

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

describe("zip bombs", () => {
  const zeros = (bytes: number) => new Uint8Array(bytes);
  const zipBytes = (files: Record<string, Uint8Array>) => Buffer.from(zipSync(files, { level: 9 })).toString("base64");

  it("refuses an archive whose directory declares more than the bounds, before inflating it", () => {
    // 65 MiB of zeros compresses to about 64 KiB: over both the size and the ratio bound.
    const bomb = zipBytes({ "index.js": strToU8("exports.main = () => ({})"), "pad.bin": zeros(65 * 1024 * 1024) });
    expect(archiveBoundsViolation(bomb)).toMatch(/^The action archive expands to \d+ bytes, more than the 67108864 bytes allowed\.$/);
    expect(() => archiveModules(bomb, "main")).toThrow(/expands to/);
  });

  it("refuses a small archive with a bomb's compression ratio", () => {
    const dense = zipBytes({ "index.js": strToU8("exports.main = () => ({})"), "pad.bin": zeros(8 * 1024 * 1024) });
    expect(archiveBoundsViolation(dense)).toMatch(/^The action archive's compression ratio \d+:1 exceeds the 100:1 allowed\.$/);
  });

  it("accepts an ordinary archive and leaves what is not a zip to the run", () => {
    expect(archiveBoundsViolation(zip({ "index.js": "exports.main = () => ({ ok: true })" }))).toBeUndefined();
    expect(archiveBoundsViolation(Buffer.from("not a zip at all").toString("base64"))).toBeUndefined();
    expect(ARCHIVE_BOUNDS.ratio).toBe(100);
  });
});
