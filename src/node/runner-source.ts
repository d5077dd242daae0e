// The isolate runner as source text. Wrangler imports it as a Text module on
// Cloudflare; the Node host reads the same file.
import { readFileSync } from "node:fs";

export const runnerSource = readFileSync(new URL("../runtime/isolate/runner.js", import.meta.url), "utf8");
