// The chapter's flow with a hello.py, through the real `openwhisk` npm
// client, run against every host (test/e2e/cloudflare.test.ts,
// test/node/start-node.test.ts). The runtime's semantics in detail:
// test/node/python.test.ts.
import { describe, expect, it } from "vitest";
import { client, type Target } from "./scenarios.js";

export const HELLO_PY = `import os
def main(args):
    name = args.get("name", "stranger")
    print("greeting", name)
    return {"payload": "Hello, " + name + "!", "body": "<h3>hello " + name + "</h3>", "action": os.environ["__OW_ACTION_NAME"]}
`;

export function pythonScenarios(target: () => Target) {
  describe("Python actions through the openwhisk client", () => {
    it("creates hello.py as python:default, invokes it, reads its logs, and serves it as a web action", { timeout: 120_000 }, async () => {
      const ow = client(target());
      const name = `hello-py-${Math.random().toString(36).slice(2, 8)}`;
      const created = await ow.actions.create({ name, action: HELLO_PY, kind: "python:default", annotations: { "web-export": true } });
      expect(created.exec).toMatchObject({ kind: "python:3" });

      const blocking = await ow.actions.invoke({ name, blocking: true, params: { name: "edge" } });
      expect(blocking.response).toMatchObject({ status: "success", result: { payload: "Hello, edge!", action: `/guest/${name}` } });
      expect(blocking.logs).toEqual([expect.stringMatching(/Z stdout: greeting edge$/)]);
      const warm = await ow.actions.invoke({ name, blocking: true, result: true, params: { name: "warm" } });
      expect(warm).toMatchObject({ payload: "Hello, warm!" });

      const page = await fetch(`${target().apihost}/api/v1/web/guest/default/${name}.http?name=web`);
      expect(page.status).toBe(200);
      expect(await page.text()).toBe("<h3>hello web</h3>");
    });
  });
}
