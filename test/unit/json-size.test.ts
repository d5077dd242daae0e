// Sizes of JSON (src/core/json-size.ts): the exact UTF-8 size a limit is
// checked against, and the bound under which a parsed body need not be
// serialised again to be measured.
import { describe, expect, it } from "vitest";
import { canonicalJsonMayExceed, jsonBytes, utf8Bytes } from "../../src/core/json-size.js";

const canonicalBytes = (text: string) => new TextEncoder().encode(JSON.stringify(JSON.parse(text))).length;

describe("utf8Bytes", () => {
  it("counts the bytes TextEncoder writes, whatever the characters", () => {
    for (const text of ["", "hello", "é", "€uro", "😀", "a\u0000b", '{"k":"\\u00e9"}']) {
      expect(utf8Bytes(text)).toBe(new TextEncoder().encode(text).length);
    }
  });

  it("measures a value by its JSON, with undefined as null", () => {
    expect(jsonBytes({ payload: "Hello, World!" })).toBe('{"payload":"Hello, World!"}'.length);
    expect(jsonBytes({ name: "José" })).toBe('{"name":"José"}'.length + 1);
    expect(jsonBytes(undefined)).toBe(4);
  });
});

describe("canonicalJsonMayExceed", () => {
  // Texts whose canonical form grows the most per character of the original:
  // short exponents (1e20 → 21 digits), fractions (1e-6 → 0.000001),
  // characters stored in three UTF-8 bytes, escapes written as themselves.
  const growing = [
    "1e20",
    "-1e20",
    '{"a":1e20}',
    '{"a":[1e20,9e20,-1e20,1e-6,1e21]}',
    `{"a":[${Array(500).fill("1e20").join(",")}]}`,
    `{"€":"${"€".repeat(300)}"}`,
    '{"a":"\\u0001\\ud800\\"\\\\"}',
    '{"a":true,"b":null,"c":false}',
  ];

  it("bounds the canonical size of every text from above", () => {
    for (const text of growing) {
      const bytes = canonicalBytes(text);
      // At the tightest limit the bound still vouches for, the exact size fits.
      const limit = Math.ceil(text.length * 6);
      expect(canonicalJsonMayExceed(text.length, limit)).toBe(false);
      expect(bytes).toBeLessThanOrEqual(limit);
    }
  });

  it("sends a text the bound cannot vouch for to the exact measure", () => {
    expect(canonicalJsonMayExceed(1_000, 5_999)).toBe(true);
    expect(canonicalJsonMayExceed(1_000, 6_000)).toBe(false);
  });
});
