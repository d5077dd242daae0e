// The isolate runner and the preinstalled packages as source text. Wrangler
// imports them as Text modules on Cloudflare; the Node host reads the same files.
import { readFileSync } from "node:fs";
import type { PreinstalledPackages } from "../runtime/modules.js";

const isolateFile = (name: string) => readFileSync(new URL(`../runtime/isolate/${name}`, import.meta.url), "utf8");

export const runnerSource = isolateFile("runner.js");

export const pythonRunnerSource = isolateFile("python-runner.js");

export const preinstalled: PreinstalledPackages = { openwhisk: isolateFile("openwhisk.bundle.js") };
