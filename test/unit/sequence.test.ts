// Sequences (src/invoker/sequence.ts) run by the executor on the fast tier's
// ports: components in order, each its own activation, the first failure
// ending the chain.
import { beforeEach, describe, expect, it } from "vitest";
import { getAnnotation } from "../../src/core/entities.js";
import { Messages } from "../../src/core/errors.js";
import { putAction, putEntity, ref, sequenceDoc } from "../support/entities.js";
import { createTestPlatform, invokeRequest, type TestPlatform } from "../support/platform.js";

let t: TestPlatform;
beforeEach(async () => {
  t = createTestPlatform();
  await putAction(t.store, "guest/add-one");
  await putAction(t.store, "guest/double");
  await putAction(t.store, "guest/refuse");
  t.isolates
    .define("/guest/add-one", (params) => ({ n: (params.n as number) + 1 }))
    .define("/guest/double", (params) => ({ n: (params.n as number) * 2 }))
    .define("/guest/refuse", () => ({ error: "refused" }));
});

async function putSequence(path: string, components: string[]) {
  const entity = { collection: "actions" as const, ref: ref(path), doc: sequenceDoc(ref(path), components) };
  await putEntity(t.store, entity);
  return entity.ref;
}

describe("sequences", () => {
  it("passes each component's result to the next and answers the last one's", async () => {
    const sequence = await putSequence("guest/calc", ["/guest/add-one", "/guest/double", "/guest/add-one"]);
    const request = invokeRequest(sequence, { n: 3 });
    const record = await t.executor.execute(request);

    expect(record.response).toEqual({ status: "success", statusCode: 0, success: true, result: { n: 9 } });
    expect(t.isolates.runs.map((run) => [run.actionName, run.request.params])).toEqual([
      ["/guest/add-one", { n: 3 }],
      ["/guest/double", { n: 4 }],
      ["/guest/add-one", { n: 8 }],
    ]);
    // The sequence's record lists its components' activations, each caused by it and stored.
    expect(record.logs).toHaveLength(3);
    const components = await Promise.all(record.logs.map((id) => t.store.getActivation("guest", id)));
    expect(components.map((c) => c?.cause)).toEqual([request.activationId, request.activationId, request.activationId]);
    expect(components.map((c) => getAnnotation(c!.annotations, "causedBy"))).toEqual(["sequence", "sequence", "sequence"]);
    expect(components.map((c) => c?.response.result)).toEqual([{ n: 4 }, { n: 8 }, { n: 9 }]);
    expect(record.duration).toBe(components.reduce((sum, c) => sum + c!.duration!, 0));
    expect(getAnnotation(record.annotations, "kind")).toBe("sequence");
    expect(getAnnotation(record.annotations, "topmost")).toBe(true);
    expect(await t.store.getActivation("guest", record.activationId)).toEqual(record);
  });

  it("stops at the first failing component and answers its response", async () => {
    const sequence = await putSequence("guest/stops", ["/guest/add-one", "/guest/refuse", "/guest/double"]);
    const record = await t.executor.execute(invokeRequest(sequence, { n: 1 }));
    expect(record.response).toEqual({ status: "application error", statusCode: 1, success: false, result: { error: "refused" } });
    expect(t.isolates.runs.map((run) => run.actionName)).toEqual(["/guest/add-one", "/guest/refuse"]);
    expect(record.logs).toHaveLength(2);
  });

  it("ends with OpenWhisk's error when a component no longer exists", async () => {
    const sequence = await putSequence("guest/dangling", ["/guest/add-one", "/guest/deleted", "/guest/double"]);
    const record = await t.executor.execute(invokeRequest(sequence, { n: 1 }));
    expect(record.response).toEqual({
      status: "application error",
      statusCode: 1,
      success: false,
      result: { error: Messages.sequenceComponentNotFound },
    });
    expect(t.isolates.runs.map((run) => run.actionName)).toEqual(["/guest/add-one"]);
    expect(record.logs).toHaveLength(1);
  });

  it("runs a nested sequence as a component caused by the outer one", async () => {
    const inner = await putSequence("guest/inner", ["/guest/double", "/guest/double"]);
    const outer = await putSequence("guest/outer", ["/guest/add-one", `/guest/${inner.name}`]);
    const record = await t.executor.execute(invokeRequest(outer, { n: 0 }));
    expect(record.response.result).toEqual({ n: 4 });
    const innerRecord = await t.store.getActivation("guest", record.logs[1]);
    expect(innerRecord).toMatchObject({ name: "inner", cause: record.activationId });
    expect(getAnnotation(innerRecord!.annotations, "topmost")).toBe(false);
    expect(innerRecord!.logs).toHaveLength(2);
  });
});
