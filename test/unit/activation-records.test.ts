import { describe, expect, it } from "vitest";
import {
  buildActivation,
  derivedActivationId,
  newActivationId,
  requestedActivation,
  resultResponse,
} from "../../src/core/activation.js";
import type { StoredActionDoc } from "../../src/core/entities.js";
import type { ResolvedAction } from "../../src/core/resolve.js";
import { inactiveRuleOutcome, triggerActivation } from "../../src/core/triggers.js";
import { compositeRecord, CompositeTrace } from "../../src/invoker/composite.js";
import { failedActivation, failedFire } from "../../src/activation/failures.js";
import type { Identity } from "../../src/ports/identity.js";
import type { InvokeRequest } from "../../src/ports/invokers.js";
import type { TriggerFire } from "../../src/ports/dispatcher.js";

const identity: Identity = { subject: "alice", namespace: "guest", uuid: "u", authKey: "u:k" };

const request: InvokeRequest = {
  activationId: "a".repeat(32),
  transactionId: "t".repeat(32),
  action: { namespace: "guest", packageName: "pkg", name: "hello" },
  identity,
  params: {},
  receivedAt: 1_000,
  cause: "c".repeat(32),
  extraAnnotations: [{ key: "causedBy", value: "sequence" }],
  apiHost: "https://example.test",
};

describe("activation ids", () => {
  it("mints 32 lower-case hex digits, a new one each time", () => {
    const ids = new Set([newActivationId(), newActivationId(), newActivationId()]);
    expect(ids.size).toBe(3);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(newActivationId(() => "01234567-89ab-cdef-0123-456789abcdef")).toBe("0123456789abcdef0123456789abcdef");
  });

  it("derives the same id for the same parent and key, another for another key", async () => {
    const parent = "f".repeat(32);
    const first = await derivedActivationId(parent, "guest/r1");
    expect(first).toMatch(/^[0-9a-f]{32}$/);
    expect(await derivedActivationId(parent, "guest/r1")).toBe(first);
    expect(await derivedActivationId(parent, "guest/r2")).not.toBe(first);
    expect(await derivedActivationId("e".repeat(32), "guest/r1")).not.toBe(first);
  });
});

describe("requestedActivation", () => {
  it("repeats who asked, names the entity by its path and counts the wait until start", () => {
    expect(requestedActivation(request, { namespace: "guest", packageName: "pkg", name: "hello" }, "0.0.3", 1_250)).toEqual({
      activationId: request.activationId,
      namespace: "guest",
      subject: "alice",
      name: "hello",
      version: "0.0.3",
      path: "guest/pkg/hello",
      waitTime: 250,
      cause: request.cause,
    });
  });

  it("never counts a negative wait (clocks of controller and invoker differ)", () => {
    expect(requestedActivation(request, request.action, "0.0.1", 900).waitTime).toBe(0);
  });
});

describe("buildActivation", () => {
  it("leaves end, duration and path out for a record that has none (trigger activations)", () => {
    const record = buildActivation({
      activationId: "b".repeat(32),
      namespace: "guest",
      subject: "alice",
      name: "t",
      version: "0.0.1",
      start: 5,
      response: resultResponse({ x: 1 }),
      logs: [],
    });
    expect(record).not.toHaveProperty("end");
    expect(record).not.toHaveProperty("duration");
    expect(record.annotations).toEqual([]);
  });
});

describe("trigger activations", () => {
  it("record the payload as result and a log line per rule, with no end, cause or annotations", () => {
    const record = triggerActivation({
      activationId: "b".repeat(32),
      namespace: "guest",
      subject: "alice",
      name: "t",
      version: "0.0.2",
      start: 42,
      payload: { hello: "world" },
      outcomes: [
        { rule: "guest/r1", action: "guest/a", statusCode: 0, success: true, activationId: "d".repeat(32) },
        inactiveRuleOutcome("guest/r2", "guest/a"),
      ],
    });
    expect(Object.keys(record)).toEqual([
      "namespace",
      "name",
      "version",
      "subject",
      "activationId",
      "start",
      "statusCode",
      "response",
      "logs",
      "annotations",
      "publish",
    ]);
    expect(record).toMatchObject({
      name: "t",
      version: "0.0.2",
      start: 42,
      statusCode: 0,
      response: { status: "success", statusCode: 0, success: true, result: { hello: "world" } },
      annotations: [],
      publish: false,
    });
    expect(record.logs.map((line) => JSON.parse(line) as unknown)).toEqual([
      { statusCode: 0, success: true, activationId: "d".repeat(32), rule: "guest/r1", action: "guest/a" },
      { statusCode: 1, success: false, error: expect.stringContaining("guest/r2") as unknown, rule: "guest/r2", action: "guest/a" },
    ]);
  });
});

describe("failure records", () => {
  it("record a whisk internal error of the requested action at the moment it failed", () => {
    const record = failedActivation(request, "it broke", 1_400);
    expect(record).toEqual({
      namespace: "guest",
      name: "hello",
      version: "0.0.0",
      subject: "alice",
      activationId: request.activationId,
      cause: request.cause,
      start: 1_400,
      end: 1_400,
      duration: 0,
      statusCode: 3,
      response: { status: "whisk internal error", statusCode: 3, success: false, result: { error: "it broke" } },
      logs: [],
      annotations: [
        { key: "path", value: "guest/pkg/hello" },
        { key: "waitTime", value: 400 },
        { key: "causedBy", value: "sequence" },
      ],
      publish: false,
    });
  });

  it("record a fire that could not be carried out under the fire's id, as its trigger", () => {
    const fire: TriggerFire = {
      activationId: "f".repeat(32),
      transactionId: "t".repeat(32),
      trigger: { namespace: "guest", name: "tick" },
      triggerVersion: "0.0.4",
      triggerParams: [],
      rules: {},
      identity,
      payload: { p: 1 },
      headers: {},
      receivedAt: 2_000,
      apiHost: "https://example.test",
    };
    const record = failedFire(fire, "gave up", 2_600);
    expect(record).not.toHaveProperty("cause");
    expect(record).toMatchObject({ activationId: fire.activationId, name: "tick", version: "0.0.0", start: 2_600, end: 2_600, statusCode: 3 });
    expect(record.annotations).toEqual([
      { key: "path", value: "guest/tick" },
      { key: "waitTime", value: 600 },
    ]);
  });
});

describe("composite records", () => {
  const doc: StoredActionDoc = {
    namespace: "guest/pkg",
    name: "seq",
    version: "0.0.7",
    publish: false,
    annotations: [],
    updated: 1,
    exec: { kind: "sequence", components: ["/guest/a"] },
    parameters: [],
    limits: { timeout: 60_000, memory: 256, logs: 10, concurrency: 1 },
  };
  const action: ResolvedAction = {
    ref: { namespace: "guest", packageName: "pkg", name: "seq" },
    addressed: { namespace: "guest", packageName: "bound", name: "seq" },
    doc,
    params: [],
    binding: "guest/bound",
  };

  it("list the components' ids as logs, sum their durations and annotate as OpenWhisk does", () => {
    const trace = new CompositeTrace();
    const component = failedActivation({ ...request, activationId: "e".repeat(32), extraAnnotations: [] }, "x", 1_500);
    trace.add({ ...component, duration: 30, annotations: [{ key: "limits", value: { memory: 512 } }] });
    const record = compositeRecord(action, request, {
      start: 1_100,
      end: 1_900,
      response: resultResponse({ ok: true }),
      trace,
      conductor: false,
    });
    expect(record).toMatchObject({
      activationId: request.activationId,
      name: "seq",
      version: "0.0.7",
      cause: request.cause,
      start: 1_100,
      end: 1_900,
      duration: 30,
      logs: ["e".repeat(32)],
    });
    expect(record.annotations).toEqual([
      { key: "path", value: "guest/pkg/seq" },
      { key: "waitTime", value: 100 },
      { key: "kind", value: "sequence" },
      { key: "topmost", value: false },
      { key: "causedBy", value: "sequence" },
      { key: "binding", value: "guest/bound" },
      { key: "limits", value: { timeout: 60_000, memory: 512, logs: 10, concurrency: 1 } },
    ]);
  });
});
