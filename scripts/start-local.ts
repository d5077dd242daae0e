#!/usr/bin/env node
// `npm start`: the Cloudflare host on this machine. wrangler dev serves the
// Worker (D1, Queues, Durable Objects) on PORT (default 8787); beside it the
// local isolate sidecar (src/node/isolate-sidecar.ts) runs actions in
// supervised workerd children, which the invoker Durable Objects call
// instead of wrangler dev's own Worker Loader. Local workerd enforces no CPU
// or memory limit, and one spinning isolate in wrangler dev's process would
// wedge the whole server; in the sidecar its child is killed at the deadline
// and the server never stops answering. Arguments after `--` go to wrangler
// dev. Ctrl-C (or SIGTERM) stops both. Local Queues keep messages in memory,
// so accepted work is journaled in D1 under an id of this run
// (DISPATCH_JOURNAL, src/activation/journal.ts) and recovered after a crash.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { egressAllowance } from "../src/node/config.js";
import { startIsolateSidecar } from "../src/node/isolate-sidecar.js";

const port = process.env.PORT ?? "8787";
const state = process.env.EDGEWHISK_STATE ?? ".wrangler/state";
const serverUrl = `http://127.0.0.1:${port}`;
const secret = randomBytes(32).toString("hex");
const memoryLimitMb = Number(process.env.WORKERD_MEMORY_MB ?? 1024);

const sidecar = await startIsolateSidecar({
  secret,
  controllerUrl: serverUrl,
  egressAllow: egressAllowance(process.env.EGRESS_ALLOW, [serverUrl]),
  memoryLimitMb,
});

const wrangler = spawn(
  "wrangler",
  [
    "dev",
    "--ip", "127.0.0.1",
    "--port", port,
    "--persist-to", state,
    "--var", `ISOLATE_SIDECAR_URL:${sidecar.url}`,
    "--var", `ISOLATE_SIDECAR_SECRET:${secret}`,
    "--var", `DISPATCH_JOURNAL:${randomBytes(8).toString("hex")}`,
    ...process.argv.slice(2),
  ],
  { stdio: "inherit", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
);

let stopping = false;
async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    if (wrangler.exitCode === null && wrangler.signalCode === null) {
      wrangler.kill("SIGTERM");
      await new Promise((resolve) => wrangler.once("exit", resolve));
    }
    await sidecar.stop();
  }
  process.exit(code);
}
wrangler.once("exit", (code) => void stop(code ?? 1));
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));
