// End-to-end scenarios driven by the real `openwhisk` npm client. One file,
// run against every host (test/e2e/cloudflare.test.ts, test/node/...).
import openwhisk from "openwhisk";
import { describe, expect, it } from "vitest";

export const GUEST_KEY =
  "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP";

/** The chapter's hello.js: a plain script defining main. */
export const HELLO_JS = `function main(params) {
  var name = params.name || 'World';
  console.log('greeting ' + name);
  return { payload: 'Hello, ' + name + '!' };
}
`;

export interface Target {
  apihost: string;
}

export function client(target: Target, apiKey = GUEST_KEY) {
  return openwhisk({ apihost: target.apihost, api_key: apiKey });
}

const unique = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 8)}`;

async function poll<T>(read: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await read();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

export function actionScenarios(target: () => Target) {
  describe("actions through the openwhisk client", () => {
    it("creates hello.js, invokes it blocking and non-blocking, reads logs and result, lists, updates and deletes", async () => {
      const ow = client(target());
      const name = unique("hello");

      const created = await ow.actions.create({ name, action: HELLO_JS });
      expect(created).toMatchObject({ name, namespace: "guest", version: "0.0.1", exec: { kind: "nodejs:20" } });

      const blocking = await ow.actions.invoke({ name, blocking: true, params: { name: "Kubernetes" } });
      expect(blocking.response).toMatchObject({ status: "success", success: true, result: { payload: "Hello, Kubernetes!" } });
      expect(blocking.activationId).toMatch(/^[0-9a-f]{32}$/);

      const result = await ow.actions.invoke({ name, blocking: true, result: true, params: { name: "edge" } });
      expect(result).toEqual({ payload: "Hello, edge!" });

      const queued = await ow.actions.invoke({ name, params: { name: "queue" } });
      expect(queued.activationId).toMatch(/^[0-9a-f]{32}$/);
      const activation = await poll(() => ow.activations.get({ name: queued.activationId }));
      expect(activation).toMatchObject({ name, namespace: "guest", activationId: queued.activationId });
      expect(activation.response?.result).toEqual({ payload: "Hello, queue!" });

      const logs = await ow.activations.logs({ name: queued.activationId });
      expect(logs.logs).toHaveLength(1);
      expect(logs.logs[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z stdout: greeting queue$/);
      const activationResult = await ow.activations.result({ name: queued.activationId });
      expect(activationResult).toMatchObject({ success: true, result: { payload: "Hello, queue!" } });

      const listed = await ow.activations.list({ name });
      expect(listed.map((a: { activationId: string }) => a.activationId)).toEqual(
        expect.arrayContaining([blocking.activationId, queued.activationId]),
      );

      const actions = await ow.actions.list();
      expect(actions.map((a) => a.name)).toContain(name);

      const updated = await ow.actions.update({ name, action: HELLO_JS.replace("Hello", "Howdy") });
      expect(updated.version).toBe("0.0.2");
      expect(await ow.actions.invoke({ name, blocking: true, result: true, params: { name: "v2" } })).toEqual({
        payload: "Howdy, v2!",
      });

      await ow.actions.delete({ name });
      await expect(ow.actions.get({ name })).rejects.toMatchObject({ statusCode: 404 });
    });

    it("rejects a wrong key with OpenWhisk's 401", async () => {
      const ow = client(target(), "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:wrong");
      await expect(ow.actions.list()).rejects.toMatchObject({
        statusCode: 401,
        error: { error: "The supplied authentication is invalid" },
      });
    });
  });
}
