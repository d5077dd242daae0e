import { describe, expect, it } from "vitest";
import { assertNoImmutableOverride, immutableParams, mergeParams, runtimeParams } from "../../src/core/params.js";

describe("parameter precedence", () => {
  it("merges package < binding < action, later layers winning", () => {
    const merged = mergeParams(
      [{ key: "a", value: "package" }, { key: "b", value: "package" }],
      [{ key: "b", value: "binding" }, { key: "c", value: "binding" }],
      [{ key: "c", value: "action" }],
    );
    expect(merged).toEqual([
      { key: "a", value: "package" },
      { key: "b", value: "binding" },
      { key: "c", value: "action" },
    ]);
  });

  it("lets the invocation override defaults and moves init parameters to the environment", () => {
    const split = runtimeParams(
      [
        { key: "greeting", value: "hi" },
        { key: "secret", value: "s3", init: true },
      ],
      { greeting: "hello", name: "x" },
    );
    expect(split).toEqual({ run: { greeting: "hello", name: "x" }, init: { secret: "s3" } });
  });
});

describe("final parameters", () => {
  it("protects defined parameters of actions annotated final", () => {
    const immutable = immutableParams(
      [{ key: "final", value: true }],
      [
        { key: "fixed", value: 1 },
        { key: "open", value: null },
      ],
    );
    expect([...immutable]).toEqual(["fixed"]);
    expect(() => assertNoImmutableOverride({ fixed: 2 }, immutable)).toThrow(
      "Request defines parameters that are not allowed (e.g., reserved properties).",
    );
    expect(() => assertNoImmutableOverride({ open: 2 }, immutable)).not.toThrow();
  });

  it("protects nothing without the annotation", () => {
    expect(immutableParams([], [{ key: "fixed", value: 1 }]).size).toBe(0);
  });
});
