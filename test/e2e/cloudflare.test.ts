// The shared end-to-end scenarios against `npm start` (wrangler dev).
import { afterAll, beforeAll } from "vitest";
import { actionScenarios } from "./scenarios.js";
import { startWranglerServer, type RunningServer } from "./server.js";

let server: RunningServer;

beforeAll(async () => {
  server = await startWranglerServer();
}, 180_000);

afterAll(async () => {
  await server?.stop();
});

actionScenarios(() => ({ apihost: server.url }));
