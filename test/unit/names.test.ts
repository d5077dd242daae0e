import { describe, expect, it } from "vitest";
import {
  isValidActivationId,
  isValidEntityName,
  parseEntityRoute,
  parseQualifiedName,
  resolveQualifiedName,
  strictQualifiedName,
} from "../../src/core/names.js";
import { WhiskError } from "../../src/core/errors.js";

describe("entity names", () => {
  it.each(["a", "hello", "hello_world", "a.b-c@d&e", "x y", "_private", "9lives"])("accepts %j", (name) => {
    expect(isValidEntityName(name)).toBe(true);
  });

  it.each(["", " a", "a ", "-a", ".a", "a/b", "a$", "ä"])("refuses %j", (name) => {
    expect(isValidEntityName(name)).toBe(false);
  });

  it("allows at most 256 characters", () => {
    expect(isValidEntityName("a".repeat(256))).toBe(true);
    expect(isValidEntityName("a".repeat(257))).toBe(false);
  });
});

describe("fully qualified names", () => {
  it("resolves relative names against the caller's namespace", () => {
    expect(resolveQualifiedName("hello", "guest")).toEqual({ namespace: "guest", name: "hello" });
    expect(resolveQualifiedName("pkg/hello", "guest")).toEqual({ namespace: "guest", packageName: "pkg", name: "hello" });
  });

  it("keeps absolute names and replaces _ with the caller", () => {
    expect(resolveQualifiedName("/other/hello", "guest")).toEqual({ namespace: "other", name: "hello" });
    expect(resolveQualifiedName("/_/pkg/hello", "guest")).toEqual({ namespace: "guest", packageName: "pkg", name: "hello" });
    expect(resolveQualifiedName("ns/pkg/hello", "guest")).toEqual({ namespace: "ns", packageName: "pkg", name: "hello" });
  });

  it("reads stored references only when fully qualified", () => {
    expect(strictQualifiedName("/_/pkg/a", "guest")).toEqual({ namespace: "guest", packageName: "pkg", name: "a" });
    expect(strictQualifiedName("other/a", "guest")).toEqual({ namespace: "other", name: "a" });
    expect(strictQualifiedName("a", "guest")).toBeUndefined();
    expect(strictQualifiedName("/ns/bad$/a", "guest")).toBeUndefined();
  });

  it("refuses names with too few or too many parts", () => {
    expect(resolveQualifiedName("/hello", "guest")).toBeUndefined();
    expect(resolveQualifiedName("/a/b/c/d", "guest")).toBeUndefined();
    expect(() => parseQualifiedName("/hello", "guest")).toThrow(WhiskError);
  });
});

describe("routes", () => {
  it("splits package/action tails and refuses illegal names", () => {
    expect(parseEntityRoute("guest", "demo/hello")).toEqual({ namespace: "guest", packageName: "demo", name: "hello" });
    expect(() => parseEntityRoute("guest", "bad name ")).toThrow("The name of the entity contains illegal characters.");
  });
});

describe("activation ids", () => {
  it("are 32 lower-case hex digits", () => {
    expect(isValidActivationId("0123456789abcdef0123456789abcdef")).toBe(true);
    expect(isValidActivationId("0123456789ABCDEF0123456789abcdef")).toBe(false);
    expect(isValidActivationId("123")).toBe(false);
  });
});
