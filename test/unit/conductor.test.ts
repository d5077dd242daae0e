// Conductor actions (src/invoker/conductor.ts) run by the executor on the
// fast tier's ports: the conductor's own steps alternate with the
// components it names, its state carried from step to step.
import { beforeEach, describe, expect, it } from "vitest";
import { getAnnotation } from "../../src/core/entities.js";
import { Messages } from "../../src/core/errors.js";
import { putAction } from "../support/entities.js";
import { createTestPlatform, invokeRequest, type TestPlatform } from "../support/platform.js";

let t: TestPlatform;
beforeEach(async () => {
  t = createTestPlatform();
  await putAction(t.store, "guest/double");
  t.isolates.define("/guest/double", (params) => ({ n: (params.n as number) * 2 }));
});

const conductorAnnotation = [{ key: "conductor", value: true }];

describe("conductor actions", () => {
  it("alternates conductor steps with the components they name, carrying state, until a step names none", async () => {
    const conductor = await putAction(t.store, "guest/twice", { annotations: conductorAnnotation });
    // Step 1 asks for double; step 2 (its result plus the state) asks again; step 3 answers.
    t.isolates.define("/guest/twice", (params) => {
      const round = (params.round as number | undefined) ?? 0;
      if (round < 2) return { action: "double", params: { n: params.n }, state: { round: round + 1 } };
      return { params: { total: params.n, rounds: round } };
    });
    const request = invokeRequest(conductor, { n: 5 });
    const record = await t.executor.execute(request);

    expect(record.response).toEqual({ status: "success", statusCode: 0, success: true, result: { total: 20, rounds: 2 } });
    expect(t.isolates.runs.map((run) => [run.actionName, run.request.params])).toEqual([
      ["/guest/twice", { n: 5 }],
      ["/guest/double", { n: 5 }],
      ["/guest/twice", { n: 10, round: 1 }],
      ["/guest/double", { n: 10 }],
      ["/guest/twice", { n: 20, round: 2 }],
    ]);
    expect(record.logs).toHaveLength(5);
    const trace = await Promise.all(record.logs.map((id) => t.store.getActivation("guest", id)));
    expect(trace.map((r) => r?.name)).toEqual(["twice", "double", "twice", "double", "twice"]);
    expect(trace.every((r) => r?.cause === request.activationId)).toBe(true);
    expect(getAnnotation(record.annotations, "conductor")).toBe(true);
    expect(getAnnotation(record.annotations, "kind")).toBe("sequence");
  });

  it("tells the conductor, at its next step, that a component does not exist", async () => {
    const conductor = await putAction(t.store, "guest/lost", { annotations: conductorAnnotation });
    t.isolates.define("/guest/lost", (params) => ("error" in params ? { params: { saw: params.error } } : { action: "missing" }));
    const record = await t.executor.execute(invokeRequest(conductor));
    expect(record.response.result).toEqual({ saw: Messages.compositionComponentNotFound("guest/missing") });
    expect(record.logs).toHaveLength(2);
  });

  it("tells the conductor when the action it names is not a valid name", async () => {
    const conductor = await putAction(t.store, "guest/garbled", { annotations: conductorAnnotation });
    t.isolates.define("/guest/garbled", (params) => ("error" in params ? { params: { saw: params.error } } : { action: 42 }));
    const record = await t.executor.execute(invokeRequest(conductor));
    expect(record.response.result).toEqual({ saw: Messages.compositionComponentInvalid("42") });
  });

  it("boxes non-dictionary params and answers a failing step's status", async () => {
    const conductor = await putAction(t.store, "guest/boxes", { annotations: conductorAnnotation });
    t.isolates.define("/guest/boxes", (params) =>
      "n" in params ? { error: `done with ${params.n}` } : { action: "double", params: 7 },
    );
    const record = await t.executor.execute(invokeRequest(conductor));
    // The component got { value: 7 }, so doubled nothing: n is NaN, which JSON makes null.
    expect(t.isolates.runsOf("/guest/double")[0].request.params).toEqual({ value: 7 });
    expect(record.response).toEqual({ status: "application error", statusCode: 1, success: false, result: { error: "done with null" } });
  });
});
