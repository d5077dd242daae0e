import { describe, expect, it } from "vitest";
import { createAction, execFromPut, isBinaryCode, limitsFromPut, updateAction } from "../../src/core/actions.js";
import { limitViolation } from "../../src/core/limits.js";
import { isTrueAnnotation, isTruthyAnnotation } from "../../src/core/entities.js";

const ref = { namespace: "guest", name: "hello" };

describe("action documents", () => {
  it("creates with OpenWhisk's defaults and annotations", () => {
    const exec = execFromPut({ kind: "nodejs:default", code: "function main(){}" });
    const doc = createAction(ref, { exec: { kind: "nodejs:default", code: "x" } }, exec, 5);
    expect(doc).toMatchObject({
      namespace: "guest",
      name: "hello",
      version: "0.0.1",
      publish: false,
      exec: { kind: "nodejs:20", binary: false },
      limits: { timeout: 60000, memory: 256, logs: 10, concurrency: 1 },
      updated: 5,
    });
    expect(doc.annotations).toEqual([
      { key: "provide-api-key", value: false },
      { key: "exec", value: "nodejs:20" },
    ]);
  });

  it("updates by bumping the patch version and keeping what the PUT leaves out", () => {
    const exec = execFromPut({ kind: "nodejs:22", code: "a" });
    const doc = createAction(ref, { parameters: [{ key: "p", value: 1 }], limits: { timeout: 1000 } }, exec, 1);
    const updated = updateAction(doc, { annotations: [{ key: "web-export", value: true }] }, undefined, 2);
    expect(updated.version).toBe("0.0.2");
    expect(updated.parameters).toEqual([{ key: "p", value: 1 }]);
    expect(updated.limits.timeout).toBe(1000);
    expect(updated.annotations.map((a) => a.key)).toEqual(["provide-api-key", "web-export", "exec"]);
    expect(updateAction(updated, {}, undefined, 3).version).toBe("0.0.3");
  });

  it("refuses unknown kinds with the list of supported ones", () => {
    expect(() => execFromPut({ kind: "swift:5.7", code: "x" })).toThrow(
      /The specified runtime 'swift:5.7' is not supported by this platform. Valid values are: 'nodejs:18', 'nodejs:20', 'nodejs:22', 'nodejs:default', 'python:3', 'python:3.10', 'python:3.11', 'python:3.12', 'python:default'/,
    );
  });

  it("keeps Python kinds as given and makes python:default the blessed one", () => {
    for (const kind of ["python:3", "python:3.10", "python:3.11", "python:3.12"]) expect(execFromPut({ kind, code: "x" }).kind).toBe(kind);
    expect(execFromPut({ kind: "python:default", code: "x" }).kind).toBe("python:3");
  });

  it("needs code for code kinds", () => {
    expect(() => execFromPut({ kind: "nodejs:20" })).toThrow("'code' must be a string defined in 'exec' for 'nodejs:20' actions");
  });

  it("marks base64 code as binary", () => {
    expect(isBinaryCode("UEsDBAoAAAAAAA==")).toBe(true);
    expect(isBinaryCode("function main() {}")).toBe(false);
  });
});

describe("limits", () => {
  it("accepts bounds and refuses values outside them with OpenWhisk's wording", () => {
    expect(limitsFromPut({ timeout: 100, memory: 512, logs: 0, concurrency: 500 })).toMatchObject({ timeout: 100 });
    expect(limitViolation("timeout", 99)).toBe("duration 99 milliseconds below allowed threshold of 100 milliseconds");
    expect(limitViolation("memory", 1024)).toBe("memory size 1024 MB exceeds allowed threshold of 512 MB");
    expect(limitViolation("logs", 11)).toBe("log size 11 MB exceeds allowed threshold of 10 MB");
    expect(limitViolation("concurrency", 0)).toBe("concurrency 0 below allowed threshold of 1");
    expect(() => limitsFromPut({ timeout: 300001 })).toThrow("duration 300001 milliseconds exceeds allowed threshold");
  });
});

describe("annotation truthiness", () => {
  const kv = (value: unknown) => [{ key: "a", value }];
  it("counts web annotations only as the boolean true", () => {
    expect(isTrueAnnotation(kv(true), "a")).toBe(true);
    expect([kv("true"), kv("yes"), kv(1), []].map((list) => isTrueAnnotation(list, "a"))).toEqual([false, false, false, false]);
  });
  it("counts conductor and provide-api-key as OpenWhisk's isTruthy does", () => {
    expect([kv(true), kv("false"), kv(1), kv({})].map((list) => isTruthyAnnotation(list, "a"))).toEqual([true, true, true, true]);
    expect([kv(false), kv(0), kv(""), kv(null), []].map((list) => isTruthyAnnotation(list, "a"))).toEqual([false, false, false, false, false]);
    expect(isTruthyAnnotation([], "a", true)).toBe(true);
  });
});
