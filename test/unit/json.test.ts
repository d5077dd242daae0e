import { describe, expect, it } from "vitest";
import { jsonDepth, MAX_JSON_DEPTH, parseRequestJson } from "../../src/core/json.js";
import { WhiskError } from "../../src/core/errors.js";

const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);

describe("request JSON", () => {
  it("measures nesting without recursion, even 100,000 levels deep", () => {
    expect(jsonDepth(1)).toBe(0);
    expect(jsonDepth({ a: [1, { b: {} }] })).toBe(4);
    expect(jsonDepth(JSON.parse(nested(100_000)))).toBe(100_000);
  });

  it("refuses nesting past the bound with OpenWhisk's malformed-content 400, and takes it at the bound", () => {
    expect(jsonDepth(parseRequestJson(nested(MAX_JSON_DEPTH)))).toBe(MAX_JSON_DEPTH);
    const refuse = (text: string) => {
      try {
        parseRequestJson(text);
      } catch (err) {
        return err as WhiskError;
      }
      throw new Error("accepted");
    };
    const deep = refuse(`{"p":${nested(MAX_JSON_DEPTH)}}`);
    expect(deep.status).toBe(400);
    expect(deep.message).toBe(`The request content was malformed:\nJSON nested deeper than ${MAX_JSON_DEPTH} levels`);
    expect(refuse("{nope").message).toMatch(/^The request content was malformed:\n/);
  });
});

describe("versions in PUT bodies", () => {
  it("reads versions as OpenWhisk does", async () => {
    const { normalizeSemVer, ActionPut } = await import("../../src/core/entities.js");
    expect(normalizeSemVer("1")).toBe("1.0.0");
    expect(normalizeSemVer("1.2")).toBe("1.2.0");
    expect(normalizeSemVer("1.2.3.4")).toBe("1.2.3");
    expect(normalizeSemVer("01.2.3")).toBe("1.2.3");
    for (const bad of ["not-semver", "0.0.0", "", "1.-2.3", "1.2.x", "99999999999.0.0"]) expect(normalizeSemVer(bad), bad).toBeUndefined();
    const parsed = ActionPut.safeParse({ version: "not-semver" });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0].message).toBe("semantic version malformed");
    expect(ActionPut.parse({ version: "2" }).version).toBe("2.0.0");
  });
});
