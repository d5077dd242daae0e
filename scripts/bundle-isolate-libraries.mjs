#!/usr/bin/env node
// Bundles the npm packages OpenWhisk's Node.js runtime preinstalls for
// actions (the `openwhisk` client) into one CommonJS file each, which the
// invokers hand to an isolate as a module when its code requires them.
// Runs on `npm install`/`npm ci` (the `prepare` script), and with
// --if-missing before start, test and deploy (for installs that skipped
// scripts, or a bundle made by an older version of this script); the output
// is not committed.
//
// Two things of the client's HTTP library (needle) behave differently in an
// isolate than in Node, and are set here for isolates:
// - needle arms a 10 s "open" timer that only a socket's `connect` event
//   clears; isolates' node:http never emits it, so every call lasting over
//   10 s died with "socket hang up". The timer is turned off: the action's
//   own time limit bounds a call.
// - needle's util.debuglog lines reached the activation's logs on every
//   call; they now appear only when the action sets NODE_DEBUG=needle.
import { build } from "esbuild";
import { existsSync, readFileSync } from "node:fs";

/** Changes whenever what this script produces changes, so --if-missing rebuilds an old bundle. */
const STAMP = "edgewhisk isolate bundle v2";
const outfile = new URL("../src/runtime/isolate/openwhisk.bundle.js", import.meta.url).pathname;
if (process.argv.includes("--if-missing") && existsSync(outfile) && readFileSync(outfile, "utf8").includes(STAMP)) process.exit(0);

const ENTRY = `require("needle").defaults({ open_timeout: 0 });
module.exports = require("openwhisk");
`;

// util for needle: debuglog only when NODE_DEBUG names the section, as in Node.
const QUIET_UTIL = `const util = require("node:util");
function debuglog(section) {
  const wanted = (process.env.NODE_DEBUG || "").split(/[\\s,]+/).some((name) => name.toLowerCase() === section.toLowerCase());
  return wanted ? util.debuglog(section) : function () {};
}
module.exports = { ...util, debuglog };
`;

const quietUtilForNeedle = {
  name: "quiet-util-for-needle",
  setup(b) {
    b.onResolve({ filter: /^util$/ }, (args) =>
      /[\\/]needle[\\/]/.test(args.importer) ? { path: "quiet-util", namespace: "edgewhisk-shim" } : undefined,
    );
    b.onLoad({ filter: /^quiet-util$/, namespace: "edgewhisk-shim" }, () => ({ contents: QUIET_UTIL, loader: "js" }));
  },
};

await build({
  stdin: { contents: ENTRY, resolveDir: new URL("..", import.meta.url).pathname, sourcefile: "openwhisk-entry.js", loader: "js" },
  outfile,
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "es2022",
  legalComments: "inline",
  banner: { js: `// ${STAMP}` },
  logLevel: "warning",
  plugins: [quietUtilForNeedle],
});
