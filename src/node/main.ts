// Entry of the Node host's processes: `main.ts controller` or `main.ts invoker`
// (one image, two commands; see k8s/). Configuration comes from the
// environment (src/node/config.ts). SIGTERM drains (src/core/drain.ts):
// readiness turns false at once, no new work is taken, work in hand
// finishes, then the process exits 0; past DRAIN_TIMEOUT_MS it exits 1
// with that work abandoned.
import { DRAIN_TIMEOUT_MS, within } from "../core/drain.js";
import { controllerConfig, invokerConfig } from "./config.js";
import { startController } from "./controller.js";
import { startInvoker } from "./invoker-server.js";

const ROLES = {
  controller: () => startController(controllerConfig()),
  invoker: () => startInvoker(invokerConfig()),
};

const role = process.argv[2] as keyof typeof ROLES;
if (!(role in ROLES)) {
  console.error(`usage: main.ts ${Object.keys(ROLES).join("|")}`);
  process.exit(2);
}

/** DRAIN_TIMEOUT_MS, or the role's default: as long as its longest work may take. */
function drainTimeoutMs(text = process.env.DRAIN_TIMEOUT_MS?.trim()): number {
  if (!text) return DRAIN_TIMEOUT_MS[role];
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms < 0) throw new Error(`DRAIN_TIMEOUT_MS is not a number of milliseconds: ${text}`);
  return ms;
}

try {
  const timeoutMs = drainTimeoutMs();
  const running = await ROLES[role]();
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`edgewhisk ${role}: ${signal}, draining (at most ${timeoutMs} ms)`);
    within(running.stop(), timeoutMs).then(
      (outcome) => {
        if (outcome === "done") process.exit(0);
        console.error(`edgewhisk ${role}: work still in hand after ${timeoutMs} ms (DRAIN_TIMEOUT_MS); exiting without it`);
        process.exit(1);
      },
      (err) => {
        console.error(`edgewhisk ${role}: stop failed:`, err);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
} catch (err) {
  console.error(`edgewhisk ${role} failed to start:`, err);
  process.exit(1);
}
