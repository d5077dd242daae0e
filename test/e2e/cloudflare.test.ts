// The shared end-to-end scenarios against `npm start` (wrangler dev).
import { afterAll, beforeAll } from "vitest";
import { actionScenarios, OTHER_KEY, OTHER_NAMESPACE, packageScenarios, triggerScenarios, webScenarios } from "./scenarios.js";
import { attackerScenarios, withWskadmin } from "./attacker.js";
import { compositionScenarios } from "./compositions.js";
import { fuzzScenarios } from "./fuzz.js";
import { pythonScenarios } from "./python-scenarios.js";
import { npmRun, npmRunInBackground, startWranglerServer, type RunningServer } from "./server.js";

let server: RunningServer;

beforeAll(async () => {
  server = await startWranglerServer({ [OTHER_NAMESPACE]: OTHER_KEY });
}, 180_000);

afterAll(async () => {
  await server?.stop();
});

const target = () => ({ apihost: server.url });
actionScenarios(target);
packageScenarios(target);
triggerScenarios(target);
webScenarios(target);
pythonScenarios(target);
compositionScenarios(target);
attackerScenarios(() =>
  withWskadmin(target(), (...args) => npmRunInBackground(["wskadmin", "--", ...args], { EDGEWHISK_STATE: server.state, CI: "true" })),
);
fuzzScenarios(() =>
  withWskadmin(target(), (...args) => npmRunInBackground(["wskadmin", "--", ...args], { EDGEWHISK_STATE: server.state, CI: "true" })),
);
