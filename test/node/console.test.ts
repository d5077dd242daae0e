// The web console served by the Node host's controller (`npm run
// start:node`: one controller, one invoker, PostgreSQL and NATS), in a
// real Chromium: the same walk-through as on npm start.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe } from "vitest";
import { CHROMIUM, consoleWalkthrough, NO_CHROMIUM_MESSAGE } from "../e2e/console-browser.js";
import { freePort, killGroup, waitForHttp } from "../e2e/server.js";
import { createTestDatabase, testServices, testStreamName } from "./services.js";

const services = await testServices();
if (!CHROMIUM) console.warn(NO_CHROMIUM_MESSAGE);

describe.skipIf(!services || !CHROMIUM)("the console on the Node host", () => {
  let child: ChildProcess;
  let url: string;
  let cleanup: (() => Promise<void>)[] = [];
  let log = "";

  beforeAll(async () => {
    const database = await createTestDatabase(services!);
    const stream = testStreamName(services!);
    cleanup = [database.drop, stream.drop];
    url = `http://127.0.0.1:${await freePort()}`;
    const env: Record<string, string | undefined> = {
      ...process.env,
      PORT: new URL(url).port,
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

  consoleWalkthrough(() => url);
});
