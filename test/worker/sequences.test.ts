// Sequences: composition, failure, nesting, records and validation.
import { beforeAll, describe, expect, it } from "vitest";
import { call, createAction, seedNamespaces, waitForActivation } from "./helpers.js";

beforeAll(async () => {
  await seedNamespaces();
  await createAction("split", "function main(p) { return { words: p.text.split(' ') } }");
  await createAction("count", "function main(p) { return { count: p.words.length } }");
  await createAction("double", "function main(p) { return { count: p.count * 2 } }");
  await createAction("fail", "function main(p) { return { error: 'stop here' } }");
});

const sequence = (components: string[]) => ({ exec: { kind: "sequence", components } });
const put = (name: string, body: unknown) => call("PUT", `/api/v1/namespaces/_/actions/${name}`, { body });
const invoke = (name: string, query: string, body?: unknown) =>
  call("POST", `/api/v1/namespaces/_/actions/${name}?${query}`, { body });

describe("sequences", () => {
  it("stores components fully qualified and runs them in order", async () => {
    const created = await put("pipeline", sequence(["/_/split", "/_/count", "/guest/double"]));
    expect(created.status).toBe(200);
    expect(created.body.exec).toEqual({ kind: "sequence", components: ["/guest/split", "/guest/count", "/guest/double"] });
    expect(created.body.annotations).toContainEqual({ key: "exec", value: "sequence" });
    const res = await invoke("pipeline", "blocking=true", { text: "a b c" });
    expect(res.status).toBe(200);
    expect(res.body.response.result).toEqual({ count: 6 });
    expect(res.body.logs).toHaveLength(3);
    expect(res.body.annotations).toEqual(
      expect.arrayContaining([
        { key: "topmost", value: true },
        { key: "kind", value: "sequence" },
        { key: "path", value: "guest/pipeline" },
      ]),
    );
    const components = await Promise.all(res.body.logs.map((id: string) => waitForActivation(id)));
    expect(components.map((c) => c.name)).toEqual(["split", "count", "double"]);
    for (const component of components) {
      expect(component.cause).toBe(res.body.activationId);
      expect(component.annotations).toContainEqual({ key: "causedBy", value: "sequence" });
    }
    expect(res.body.duration).toBe(components.reduce((sum, c) => sum + c.duration, 0));
  });

  it("records the largest component memory in its limits, with its own timeout and logs", async () => {
    await createAction("roomy", "function main(p) { return p }", { limits: { memory: 512 } });
    await put("roomyPipeline", { ...sequence(["/_/split", "/_/roomy"]), limits: { timeout: 30000, logs: 5 } });
    const res = await invoke("roomyPipeline", "blocking=true", { text: "a b" });
    expect(res.body.annotations).toContainEqual({ key: "limits", value: { timeout: 30000, memory: 512, logs: 5, concurrency: 1 } });
  });

  it("stops at the first failing component and answers its error", async () => {
    await put("broken", sequence(["/_/split", "/_/fail", "/_/count"]));
    const res = await invoke("broken", "blocking=true", { text: "x y" });
    expect(res.status).toBe(502);
    expect(res.body.response).toMatchObject({ status: "application error", result: { error: "stop here" } });
    expect(res.body.logs).toHaveLength(2);
  });

  it("runs a sequence that contains a sequence", async () => {
    await put("inner", sequence(["/_/split", "/_/count"]));
    await put("outer", sequence(["/_/inner", "/_/double"]));
    const res = await invoke("outer", "blocking=true", { text: "one two" });
    expect(res.body.response.result).toEqual({ count: 4 });
    const inner = await waitForActivation(res.body.logs[0]);
    expect(inner.name).toBe("inner");
    expect(inner.cause).toBe(res.body.activationId);
    expect(inner.annotations).toContainEqual({ key: "topmost", value: false });
    expect(inner.logs).toHaveLength(2);
  });

  it("runs non-blocking through the queue", async () => {
    const res = await invoke("pipeline", "", { text: "q r" });
    expect(res.status).toBe(202);
    const record = await waitForActivation(res.body.activationId);
    expect(record.response.result).toEqual({ count: 4 });
  });

  it("refuses sequences OpenWhisk refuses, storing nothing", async () => {
    const cases: [string, unknown, string][] = [
      ["s-missing", sequence(["/guest/nope"]), "Sequence component does not exist."],
      ["s-empty", sequence([]), "No component specified for the sequence."],
      [
        "s-relative",
        sequence(["split"]),
        "The request content was malformed:\nThe fully qualified name of the entity must contain at least the namespace and the name of the entity.",
      ],
      ["s-long", sequence(Array.from({ length: 51 }, () => "/_/split")), "Too many actions in the sequence."],
      ["s-self", sequence(["/_/split", "/guest/s-self"]), "Sequence may not refer to itself."],
    ];
    for (const [name, body, message] of cases) {
      const res = await put(name, body);
      expect(res.status, name).toBe(400);
      expect(res.body.error, name).toBe(message);
      expect((await call("GET", `/api/v1/namespaces/_/actions/${name}`)).status).toBe(404);
    }
  });

  it("refuses an update that would make a sequence reach itself through another", async () => {
    await put("loop-a", sequence(["/_/split"]));
    await put("loop-b", sequence(["/_/loop-a"]));
    const res = await call("PUT", "/api/v1/namespaces/_/actions/loop-a?overwrite=true", { body: sequence(["/_/loop-b"]) });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("Sequence may not refer to itself.");
    expect((await call("GET", "/api/v1/namespaces/_/actions/loop-a")).body.exec.components).toEqual(["/guest/split"]);
  });

  it("counts the atomic actions of nested sequences against the limit", async () => {
    await put("wide", sequence(Array.from({ length: 30 }, () => "/_/split")));
    const res = await put("wider", sequence(["/_/wide", "/_/wide"]));
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("Too many actions in the sequence.");
  });
});
