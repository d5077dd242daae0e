// Entry of the Node host's processes: `main.ts controller` or `main.ts invoker`
// (one image, two commands; see k8s/). Configuration comes from the
// environment (src/node/config.ts). SIGTERM drains: no new work is taken,
// work in hand finishes.
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

try {
  const running = await ROLES[role]();
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`edgewhisk ${role}: ${signal}, draining`);
    running.stop().then(
      () => process.exit(0),
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
