#!/usr/bin/env node
// Builds the web console (src/console/ui) with esbuild and copies Swagger UI
// from the npm swagger-ui-dist package, into dist/assets/:
//   console/index.html, console/console.js, console/console.css, console/licenses.txt
//   docs/swagger-ui-bundle.js, docs/swagger-ui.css, docs/swagger-initializer.js
// The controller serves them on both hosts (src/console/routes.ts): the
// Worker reads them through its Workers Static Assets binding (wrangler.toml
// [assets]), the Node controller from this directory. Nothing is fetched from
// a CDN at run time.
//
// Runs on `npm install`/`npm ci` (prepare) and before start, test and deploy
// with --if-stale: it rebuilds only when the output is missing, was made by
// another version of this script, or is older than a console source or the
// lock file. The output is not committed.
import { build } from "esbuild";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** Changes whenever what this script produces changes, so --if-stale rebuilds an old module. */
const STAMP = "edgewhisk console assets v3";
const root = new URL("..", import.meta.url).pathname;
const ui = join(root, "src/console/ui");
const model = join(root, "src/console/model");
const outdir = join(root, "dist/assets");
/** Written last: the build is complete when it exists and names this STAMP. */
const stampfile = join(root, "dist/assets.stamp");

function newestInput() {
  const times = [statSync(new URL(import.meta.url).pathname).mtimeMs];
  const lock = join(root, "package-lock.json");
  if (existsSync(lock)) times.push(statSync(lock).mtimeMs);
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else times.push(statSync(path).mtimeMs);
    }
  };
  walk(ui);
  walk(model);
  return Math.max(...times);
}

function isFresh() {
  if (!existsSync(stampfile) || readFileSync(stampfile, "utf8").trim() !== STAMP) return false;
  return statSync(stampfile).mtimeMs >= newestInput();
}

if (process.argv.includes("--if-stale") && isFresh()) process.exit(0);

// Sources absent (e.g. a Docker layer that installs before copying src/): nothing to build yet.
if (!existsSync(join(ui, "main.ts"))) {
  console.warn("build-console: src/console/ui is absent; the console is not built");
  process.exit(0);
}

const bundled = await build({
  entryPoints: { console: join(ui, "main.ts") },
  bundle: true,
  write: false,
  outdir: "out",
  format: "esm",
  target: "es2022",
  minify: true,
  legalComments: "none",
  metafile: true,
  loader: { ".css": "css" },
  logLevel: "warning",
});

/** The license of every npm package bundled into console.js (name, version, its license file), as their licenses ask. */
function licenses(inputs) {
  const dirs = new Set();
  for (const input of inputs) {
    const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match) dirs.add(match[1]);
  }
  return [...dirs]
    .sort()
    .map((dir) => {
      const pkg = JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8"));
      const file = readdirSync(join(root, dir)).find((name) => /^licen[cs]e/i.test(name));
      const text = file ? readFileSync(join(root, dir, file), "utf8").trim() : `License: ${pkg.license ?? "see the package"}`;
      return `${pkg.name} ${pkg.version}\n\n${text}\n`;
    })
    .join("\n" + "-".repeat(72) + "\n\n");
}

/** Name in the bundle output → its text. */
const outputs = Object.fromEntries(bundled.outputFiles.map((file) => [file.path.split("/").pop(), file.text]));

rmSync(outdir, { recursive: true, force: true });
rmSync(stampfile, { force: true });
mkdirSync(join(outdir, "console"), { recursive: true });
mkdirSync(join(outdir, "docs"), { recursive: true });
const write = (name, text) => writeFileSync(join(outdir, name), text);
write("console/index.html", readFileSync(join(ui, "index.html"), "utf8"));
write("console/console.js", outputs["console.js"]);
write("console/console.css", outputs["console.css"] ?? "");
write("console/licenses.txt", licenses(Object.keys(bundled.metafile.inputs)));

const swaggerDir = join(root, "node_modules/swagger-ui-dist");
for (const name of ["swagger-ui-bundle.js", "swagger-ui.css"]) cpSync(join(swaggerDir, name), join(outdir, "docs", name));
cpSync(join(ui, "swagger-initializer.js"), join(outdir, "docs/swagger-initializer.js"));

writeFileSync(stampfile, `${STAMP}\n`);
const size = (dir) => readdirSync(join(outdir, dir)).reduce((n, name) => n + statSync(join(outdir, dir, name)).size, 0);
console.log(`build-console: dist/assets/console ${Math.round(size("console") / 1024)} KiB, dist/assets/docs ${Math.round(size("docs") / 1024)} KiB`);
