#!/usr/bin/env node
// Bundles the npm packages OpenWhisk's Node.js runtime preinstalls for
// actions (the `openwhisk` client) into one CommonJS file each, which the
// invokers hand to an isolate as a module when its code requires them.
// Runs on `npm install`/`npm ci` (the `prepare` script); the output is not
// committed.
import { build } from "esbuild";

await build({
  entryPoints: ["openwhisk"],
  outfile: new URL("../src/runtime/isolate/openwhisk.bundle.js", import.meta.url).pathname,
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "es2022",
  legalComments: "inline",
  logLevel: "warning",
});
