// `npm run start:node` as a developer runs it: one controller and one
// invoker on one machine, the migrations applied and the development guest
// key seeded by the controller, driven through the shared scenarios.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe } from "vitest";
import { compositionScenarios } from "../e2e/compositions.js";
import { actionScenarios } from "../e2e/scenarios.js";
import { pythonScenarios } from "../e2e/python-scenarios.js";
import { freePort, killGroup, waitForHttp } from "../e2e/server.js";
import { createTestDatabase, testServices, testStreamName } from "./services.js";

const services = await testServices();

describe.skipIf(!services)("npm run start:node", () => {
  let child: ChildProcess;
  let url: string;
  let cleanup: (() => Promise<void>)[] = [];
  let log = "";

  beforeAll(async () => {
    const database = await createTestDatabase(services!);
    const stream = testStreamName(services!);
    cleanup = [database.drop, stream.drop];
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const env: Record<string, string | undefined> = {
      ...process.env,
      PORT: String(port),
      DATABASE_URL: database.url,
      NATS_URL: services!.natsUrl,
      NATS_STREAM: stream.name,
    };
    delete env.GUEST_AUTH;
    child = spawn("npm", ["run", "start:node"], {
      cwd: fileURLToPath(new URL("../..", import.meta.url)),
      env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.on("data", (chunk) => (log += chunk));
    child.stderr!.on("data", (chunk) => (log += chunk));
    try {
      await waitForHttp(`${url}/healthz`, 90_000, () => child.exitCode === null);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${log}`);
    }
  }, 120_000);

  afterAll(async () => {
    if (child) await killGroup(child);
    for (const drop of cleanup) await drop();
  }, 60_000);

  actionScenarios(() => ({ apihost: url }));
  pythonScenarios(() => ({ apihost: url }));
  compositionScenarios(() => ({ apihost: url }));
});
