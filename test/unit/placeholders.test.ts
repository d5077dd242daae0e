import { describe, expect, it } from "vitest";
import { inlineParams, replacePlaceholders, sqliteLiteral } from "../../src/store/placeholders.js";

describe("replacePlaceholders", () => {
  it("counts ? from 1 in order and leaves quoted text and identifiers alone", () => {
    expect(replacePlaceholders(`SELECT '?' || "a?" FROM t WHERE a = ? AND b = 'it''s ?' AND c = ?`, (n) => `:${n}`)).toBe(
      `SELECT '?' || "a?" FROM t WHERE a = :1 AND b = 'it''s ?' AND c = :2`,
    );
  });
});

describe("sqliteLiteral", () => {
  it("quotes text, doubling its single quotes", () => {
    expect(sqliteLiteral("O'Brien; DROP TABLE subjects; --")).toBe(`'O''Brien; DROP TABLE subjects; --'`);
  });

  it("writes numbers, booleans and NULL as SQLite reads them", () => {
    expect([7, 1.5, -3, 10n, true, false, null, undefined].map(sqliteLiteral)).toEqual(["7", "1.5", "-3", "10", "1", "0", "NULL", "NULL"]);
  });

  it("refuses what has no literal", () => {
    expect(() => sqliteLiteral(Number.NaN)).toThrow("no SQLite literal for NaN");
    expect(() => sqliteLiteral({})).toThrow("no SQLite literal for object");
  });
});

describe("inlineParams", () => {
  it("puts each parameter where its placeholder is", () => {
    expect(inlineParams("INSERT INTO namespace_limits (namespace, limits) VALUES (?, ?)", ["it's", '{"a":1}'])).toBe(
      `INSERT INTO namespace_limits (namespace, limits) VALUES ('it''s', '{"a":1}')`,
    );
  });

  it("refuses too few or too many parameters", () => {
    expect(() => inlineParams("SELECT ? , ?", ["a"])).toThrow("the statement has 2 placeholders for 1 parameters");
    expect(() => inlineParams("SELECT ?", ["a", "b"])).toThrow("the statement has 1 placeholders for 2 parameters");
  });
});
