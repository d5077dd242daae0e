// The shared end-to-end scenarios against `npm start` (wrangler dev).
import { afterAll, beforeAll } from "vitest";
import { actionScenarios, OTHER_KEY, OTHER_NAMESPACE, packageScenarios, triggerScenarios, webScenarios } from "./scenarios.js";
import { attackerScenarios } from "./attacker.js";
import { npmRun, startWranglerServer, type RunningServer } from "./server.js";

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
attackerScenarios(() => {
  const wskadmin = (...args: string[]) => npmRun(["wskadmin", "--", ...args], { EDGEWHISK_STATE: server.state, CI: "true" });
  return {
    ...target(),
    createSubject: async (namespace, auth) => void wskadmin("user", "create", namespace, "--auth", auth),
    deleteSubject: async (uuid) => void wskadmin("user", "delete", uuid),
    setLimits: async (namespace, limits) =>
      void wskadmin("limits", "set", namespace, ...Object.entries(limits).flatMap(([field, value]) => [`--${field}`, String(value)])),
  };
});
