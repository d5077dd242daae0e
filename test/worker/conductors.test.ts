// Conductor actions (annotation `conductor`): steps of the conductor
// alternating with the components it asks for, recorded as a composition.
import { beforeAll, describe, expect, it } from "vitest";
import { call, createAction, OTHER_KEY, seedNamespaces, waitForActivation } from "./helpers.js";

const CONDUCTOR = [{ key: "conductor", value: true }];

beforeAll(async () => {
  await seedNamespaces();
  await createAction("triple", "function main({ value }) { return { value: value * 3 } }");
  await createAction("increment", "function main({ value }) { return { value: value + 1 } }");
  await createAction("fails", "function main() { return { error: 'component failed' } }");
  // The example of OpenWhisk's conductor documentation.
  await createAction(
    "tripleAndIncrement",
    `function main(params) {
      let step = params.$step || 0
      delete params.$step
      switch (step) {
        case 0: return { action: 'triple', params, state: { $step: 1 } }
        case 1: return { action: 'increment', params, state: { $step: 2 } }
        case 2: return { params }
      }
    }`,
    { annotations: CONDUCTOR },
  );
  // Asks for whatever `next` names once, then answers what it was given back.
  await createAction(
    "relay",
    `function main(params) {
      if (params.$done) { delete params.$done; return { params } }
      return { action: params.next, params: { value: 1 }, state: { $done: true } }
    }`,
    { annotations: CONDUCTOR },
  );
  await createAction("forever", "function main(p) { return { action: 'increment', params: { value: 0 }, state: 'again' } }", { annotations: CONDUCTOR });
});

const invoke = (name: string, body: unknown) => call("POST", `/api/v1/namespaces/_/actions/${name}?blocking=true`, { body });

describe("conductor actions", () => {
  it("runs the documentation's tripleAndIncrement and records the composition as OpenWhisk does", async () => {
    const res = await invoke("tripleAndIncrement", { value: 3 });
    expect(res.status).toBe(200);
    expect(res.body.response).toMatchObject({ status: "success", result: { value: 10 } });
    expect(res.body.logs).toHaveLength(5);
    expect(res.body.annotations).toEqual(
      expect.arrayContaining([
        { key: "topmost", value: true },
        { key: "conductor", value: true },
        { key: "kind", value: "sequence" },
        { key: "path", value: "guest/tripleAndIncrement" },
        { key: "limits", value: { timeout: 60000, memory: 256, logs: 10, concurrency: 1 } },
      ]),
    );
    const derived = await Promise.all(res.body.logs.map((id: string) => waitForActivation(id)));
    expect(derived.map((a) => a.name)).toEqual(["tripleAndIncrement", "triple", "tripleAndIncrement", "increment", "tripleAndIncrement"]);
    expect(derived.map((a) => a.response.result)).toEqual([
      { action: "triple", params: { value: 3 }, state: { $step: 1 } },
      { value: 9 },
      { action: "increment", params: { value: 9 }, state: { $step: 2 } },
      { value: 10 },
      { params: { value: 10 } },
    ]);
    for (const activation of derived) {
      expect(activation.cause).toBe(res.body.activationId);
      expect(activation.annotations).toContainEqual({ key: "causedBy", value: "sequence" });
    }
    expect(res.body.duration).toBe(derived.reduce((sum, a) => sum + a.duration, 0));
  });

  it("hands the conductor a failing component's result, merged with its state", async () => {
    const res = await invoke("relay", { next: "fails" });
    expect(res.body.response).toMatchObject({ status: "success", result: { error: "component failed" } });
    expect(res.body.logs).toHaveLength(3);
  });

  it("tells the conductor what it named that cannot be parsed, resolved or reached", async () => {
    const unparsable = await invoke("relay", { next: 42 });
    expect(unparsable.body.response.result).toEqual({ error: "Failed to parse action name from json value 42 during composition." });
    expect(unparsable.body.logs).toHaveLength(2);
    const missing = await invoke("relay", { next: "nowhere" });
    expect(missing.body.response.result).toEqual({ error: "Failed to resolve action with name 'guest/nowhere' during composition." });
    await createAction("private", "function main() { return {} }", {}, OTHER_KEY);
    const foreign = await invoke("relay", { next: "/other/private" });
    expect(foreign.body.response.result).toEqual({
      error: "Failed entitlement check for action with name 'other/private' during composition.",
    });
  });

  it("stops a composition past 50 components and 101 conductor steps", { timeout: 60_000 }, async () => {
    const res = await invoke("forever", {});
    expect(res.status).toBe(502);
    expect(res.body.response).toMatchObject({ status: "application error", result: { error: "Too many actions in the composition." } });
    expect(res.body.logs).toHaveLength(50 + 101);
  });

  it("ignores the annotation on a sequence, and runs a conductor as a sequence component", async () => {
    const put = await call("PUT", "/api/v1/namespaces/_/actions/seqWithConductor", {
      body: { exec: { kind: "sequence", components: ["/_/tripleAndIncrement", "/_/triple"] }, annotations: CONDUCTOR },
    });
    expect(put.status).toBe(200);
    const res = await invoke("seqWithConductor", { value: 1 });
    expect(res.body.response.result).toEqual({ value: 12 });
    expect(res.body.annotations).not.toContainEqual({ key: "conductor", value: true });
    const nested = await waitForActivation(res.body.logs[0]);
    expect(nested.annotations).toEqual(expect.arrayContaining([{ key: "conductor", value: true }, { key: "topmost", value: false }]));
  });
});
