import { describe, expect, it } from "vitest";
import {
  activationSummary,
  blockingHttpStatus,
  buildActivation,
  developerError,
  newActivationId,
  resultResponse,
  timeoutResponse,
  whiskError,
} from "../../src/core/activation.js";

describe("activation responses", () => {
  it("classifies results as success or application error", () => {
    expect(resultResponse({ ok: 1 })).toEqual({ status: "success", statusCode: 0, success: true, result: { ok: 1 } });
    expect(resultResponse({ error: "no" })).toEqual({
      status: "application error",
      statusCode: 1,
      success: false,
      result: { error: "no" },
    });
    expect(resultResponse([1, 2]).statusCode).toBe(0);
  });

  it("words developer errors, timeouts and platform faults as OpenWhisk does", () => {
    expect(developerError("boom")).toMatchObject({ status: "action developer error", statusCode: 2, result: { error: "boom" } });
    expect(timeoutResponse(100).result).toEqual({ error: "The action exceeded its time limits of 100 milliseconds." });
    expect(whiskError("x").status).toBe("whisk internal error");
  });

  it("maps outcomes to blocking HTTP statuses", () => {
    expect(blockingHttpStatus(resultResponse({}))).toBe(200);
    expect(blockingHttpStatus(resultResponse({ error: 1 }))).toBe(502);
    expect(blockingHttpStatus(developerError("x"))).toBe(502);
    expect(blockingHttpStatus(whiskError("x"))).toBe(500);
  });
});

describe("activation records", () => {
  const record = buildActivation({
    activationId: newActivationId(() => "01234567-89ab-cdef-0123-456789abcdef"),
    namespace: "guest",
    subject: "guest",
    name: "hello",
    version: "0.0.1",
    path: "guest/demo/hello",
    kind: "nodejs:20",
    limits: { timeout: 60000, memory: 256, logs: 10, concurrency: 1 },
    start: 1000,
    end: 1025,
    waitTime: 3,
    initTime: 20,
    timedOut: false,
    response: resultResponse({ a: 1 }),
    logs: ["2026-01-01T00:00:00.000Z stdout: hi"],
  });

  it("carries the fields clients read", () => {
    expect(record).toMatchObject({
      activationId: "0123456789abcdef0123456789abcdef",
      namespace: "guest",
      name: "hello",
      duration: 25,
      statusCode: 0,
      publish: false,
    });
    expect(record.annotations).toEqual([
      { key: "path", value: "guest/demo/hello" },
      { key: "waitTime", value: 3 },
      { key: "kind", value: "nodejs:20" },
      { key: "timeout", value: false },
      { key: "limits", value: { timeout: 60000, memory: 256, logs: 10, concurrency: 1 } },
      { key: "initTime", value: 20 },
    ]);
  });

  it("summarises without response and logs", () => {
    const summary = activationSummary(record);
    expect(summary).not.toHaveProperty("response");
    expect(summary).not.toHaveProperty("logs");
    expect(summary).toMatchObject({ activationId: record.activationId, statusCode: 0, duration: 25 });
  });
});
