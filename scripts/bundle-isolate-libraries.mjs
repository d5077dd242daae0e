#!/usr/bin/env node
// Bundles the npm packages OpenWhisk's Node.js runtime preinstalls for
// actions (the `openwhisk` client) into one CommonJS file each, which the
// invokers hand to an isolate as a module when its code requires them.
// Runs on `npm install`/`npm ci` (the `prepare` script), and with
// --if-missing before start, test and deploy (for installs that skipped
// scripts); the output is not committed.
import { build } from "esbuild";
import { existsSync } from "node:fs";

const outfile = new URL("../src/runtime/isolate/openwhisk.bundle.js", import.meta.url).pathname;
if (process.argv.includes("--if-missing") && existsSync(outfile)) process.exit(0);

await build({
  entryPoints: ["openwhisk"],
  outfile,
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "es2022",
  legalComments: "inline",
  logLevel: "warning",
});
