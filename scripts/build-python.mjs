#!/usr/bin/env node
// Prepares what Python action isolates boot from, under
// node_modules/.cache/edgewhisk-python/ (never committed):
// - the Pyodide files of the npm `pyodide` package (CPython compiled to
//   WebAssembly, its stdlib zip and the JavaScript that loads them), and a
//   lock file holding only its `info` (no packages: nothing is downloaded);
// - a memory snapshot of a booted interpreter (snapshot.bin, packed as
//   src/runtime/isolate/python-snapshot.js says, with the codec beside it),
//   made inside workerd by the Python runner itself: one made in Node does
//   not restore in workerd. Restoring it starts an isolate in a few tenths
//   of a second instead of two to three.
// Runs on `npm install`/`npm ci` (`prepare`) and with --if-missing before
// start, test and deploy; a stamp (pyodide, workerd and runner versions)
// says when the snapshot must be made again.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const root = new URL("..", import.meta.url).pathname;
const cache = join(root, "node_modules/.cache/edgewhisk-python");
const pyodideDir = join(root, "node_modules/pyodide");
const runnerPath = join(root, "src/runtime/isolate/python-runner.js");
const codecPath = join(root, "src/runtime/isolate/python-snapshot.js");
const workerd = require("workerd").default;

// The container image installs packages before it copies src/ (Dockerfile), and runs this again after.
if (!existsSync(runnerPath)) {
  console.log("edgewhisk: no src/runtime/isolate/python-runner.js yet; the Python files are prepared later");
  process.exit(0);
}

const pyodideVersion = JSON.parse(readFileSync(join(pyodideDir, "package.json"), "utf8")).version;
const workerdVersion = JSON.parse(readFileSync(join(root, "node_modules/workerd/package.json"), "utf8")).version;
const runnerDigest = createHash("sha256").update(readFileSync(runnerPath)).update(readFileSync(codecPath)).digest("hex").slice(0, 16);
const stamp = `pyodide ${pyodideVersion}, workerd ${workerdVersion}, runner ${runnerDigest}`;
const stampFile = join(cache, "stamp.txt");

if (process.argv.includes("--if-missing") && existsSync(stampFile) && readFileSync(stampFile, "utf8") === stamp) process.exit(0);

mkdirSync(cache, { recursive: true });
rmSync(stampFile, { force: true });
// Every file is written beside its place and renamed into it: a server or
// test run already reading them never sees one half written.
const place = (name, write) => {
  const temporary = join(cache, `.${name}.${process.pid}`);
  write(temporary);
  renameSync(temporary, join(cache, name));
};
for (const name of ["pyodide.asm.wasm", "python_stdlib.zip", "pyodide.mjs", "pyodide.asm.mjs"]) {
  place(name, (path) => copyFileSync(join(pyodideDir, name), path));
}
const { info } = JSON.parse(readFileSync(join(pyodideDir, "pyodide-lock.json"), "utf8"));
place("pyodide-lock.json", (path) => writeFileSync(path, JSON.stringify({ info, packages: {} })));
place("python-snapshot.js", (path) => copyFileSync(codecPath, path));
copyFileSync(runnerPath, join(cache, "python-runner.js"));

const started = Date.now();
const snapshot = await makeSnapshot();
// Not gzipped: the local hosts hand it to each new isolate as it is.
place("snapshot.bin", (path) => writeFileSync(path, snapshot));
for (const old of ["python-runner.js", "snapshot.bin.gz", "snapshot.json"]) rmSync(join(cache, old), { force: true });
writeFileSync(stampFile, stamp);
console.log(`edgewhisk: Python snapshot made in ${Date.now() - started} ms (${snapshot.length} bytes packed) for ${stamp}`);

/** Serves the Python runner as a workerd worker of its own and asks it for a snapshot. */
async function makeSnapshot() {
  const dir = mkdtempSync(join(tmpdir(), "edgewhisk-python-snapshot-"));
  const socket = join(dir, "maker.sock");
  const config = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "maker", worker = .maker) ],
  sockets = [ (name = "http", address = ${JSON.stringify(`unix:${socket}`)}, http = (), service = "maker") ],
);
const maker :Workerd.Worker = (
  modules = [
    (name = "python-runner.js", esModule = embed "python-runner.js"),
    (name = "python-snapshot.js", esModule = embed "python-snapshot.js"),
    (name = "pyodide.mjs", esModule = embed "pyodide.mjs"),
    (name = "pyodide.asm.mjs", esModule = embed "pyodide.asm.mjs"),
    (name = "pyodide.asm.wasm", wasm = embed "pyodide.asm.wasm"),
    (name = "python_stdlib.zip", data = embed "python_stdlib.zip"),
    (name = "pyodide-lock.json", json = embed "pyodide-lock.json"),
  ],
  compatibilityDate = "2026-08-01",
);
`;
  // Embeds are read relative to the config: it sits beside the files for the run.
  const configPath = join(cache, "maker.capnp");
  writeFileSync(configPath, config);
  const child = spawn(workerd, ["serve", "--experimental", configPath], { stdio: ["ignore", "inherit", "inherit"], env: {} });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        return await get(socket, "/snapshot");
      } catch (err) {
        if (attempt > 300 || child.exitCode !== null) throw new Error(`the snapshot maker did not answer: ${err.message}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } finally {
    child.kill("SIGKILL");
    rmSync(configPath, { force: true });
    rmSync(dir, { recursive: true, force: true });
  }
}

function get(socketPath, path) {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path }, (res) => {
      const chunks = [];
      res.on("data", (chunk) => chunks.push(chunk));
      res.on("end", () =>
        res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`${res.statusCode}: ${Buffer.concat(chunks).toString()}`)),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}
