// Zip actions run with their dependencies, as `wsk action create x action.zip --kind nodejs:20` makes them.
import { zipSync, strToU8 } from "fflate";
import { beforeAll, describe, expect, it } from "vitest";
import { call, seedNamespaces } from "./helpers.js";

beforeAll(seedNamespaces);

function zip(files: Record<string, string>): string {
  const bytes = zipSync(Object.fromEntries(Object.entries(files).map(([name, text]) => [name, strToU8(text)])));
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

async function createZip(name: string, code: string, main?: string) {
  const res = await call("PUT", `/api/v1/namespaces/_/actions/${name}`, {
    body: { exec: { kind: "nodejs:20", code, ...(main ? { main } : {}) } },
  });
  expect(res.status).toBe(200);
  expect(res.body.exec.binary).toBe(true);
}

const invoke = (name: string, params: unknown = {}) =>
  call("POST", `/api/v1/namespaces/_/actions/${name}?blocking=true&result=true`, { body: params });

describe("zip actions", () => {
  it("runs package.json's main with node_modules dependencies and JSON files", async () => {
    await createZip(
      "zipped",
      zip({
        "package.json": JSON.stringify({ name: "zipped", main: "src/index.js" }),
        "src/index.js": "const greet = require('greeter'); const { suffix } = require('../settings.json'); exports.main = (p) => ({ text: greet(p.name) + suffix });",
        "settings.json": JSON.stringify({ suffix: "!" }),
        "node_modules/greeter/package.json": JSON.stringify({ main: "lib/greet" }),
        "node_modules/greeter/lib/greet.js": "module.exports = (name) => 'hello ' + (name || 'zip');",
      }),
    );
    const res = await invoke("zipped", { name: "archive" });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ text: "hello archive!" });
  });

  it("honours exec.main as module.function and ES module packages", async () => {
    await createZip(
      "zipped-esm",
      zip({
        "package.json": JSON.stringify({ type: "module" }),
        "handler.js": "import { twice } from './lib/math.js'; export async function run(p) { return { n: twice(p.n) } }",
        "lib/math.js": "export const twice = (n) => n * 2;",
      }),
      "handler.run",
    );
    expect((await invoke("zipped-esm", { n: 21 })).body).toEqual({ n: 42 });
  });

  it("finds the preinstalled openwhisk module from files deep in the archive", async () => {
    await createZip(
      "zipped-ow",
      zip({
        "index.js": "exports.main = require('./lib/client.js').describe;",
        "lib/client.js": "const openwhisk = require('openwhisk'); exports.describe = () => ({ hasActions: typeof openwhisk({ apihost: 'https://example.test', api_key: 'a:b' }).actions.invoke });",
      }),
    );
    expect((await invoke("zipped-ow")).body).toEqual({ hasActions: "function" });
  });

  it("lets the archive's code read its own files with node:fs, by __dirname or import.meta.url", async () => {
    await createZip(
      "zipped-files",
      zip({
        "index.js": "'use strict';\nconst fs = require('fs');\nconst path = require('path');\nexports.main = (p) => ({ page: fs.readFileSync(path.join(__dirname, 'views/page.html'), 'utf8').replace('{{name}}', p.name), esm: require('./lib/esm.json') });",
        "views/page.html": "<h1>{{name}}</h1>",
        "lib/esm.json": JSON.stringify({ ok: true }),
      }),
    );
    expect((await invoke("zipped-files", { name: "edge" })).body).toEqual({ page: "<h1>edge</h1>", esm: { ok: true } });
    await createZip(
      "zipped-files-esm",
      zip({
        "package.json": JSON.stringify({ type: "module", main: "src/main.js" }),
        "src/main.js": "import { readFileSync } from 'node:fs';\nexport function main() { return { text: readFileSync(new URL('../data/notes.txt', import.meta.url), 'utf8') } }",
        "data/notes.txt": "from a file",
      }),
    );
    expect((await invoke("zipped-files-esm")).body).toEqual({ text: "from a file" });
  });

  it("reports an archive without an entry as an initialisation failure", async () => {
    await createZip("zipped-bad", zip({ "readme.txt": "no code" }));
    const res = await invoke("zipped-bad");
    expect(res.status).toBe(502);
    expect(res.body).toEqual({
      error: "Initialization has failed due to: Zipped actions must contain either package.json or index.js at the root.",
    });
  });
});
