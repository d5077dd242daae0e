// Sizes of JSON for the limits that count bytes (request parameters,
// results): the exact UTF-8 size of a JSON text, and when a parsed request
// body needs no second serialisation to be measured.

const encoder = new TextEncoder();

/** The UTF-8 size of a text, as the limits count it. */
export function utf8Bytes(text: string): number {
  return encoder.encode(text).length;
}

/** The UTF-8 size of a value's JSON (undefined counts as null). */
export function jsonBytes(value: unknown): number {
  return utf8Bytes(JSON.stringify(value ?? null));
}

/**
 * How many UTF-8 bytes of canonical JSON (JSON.stringify of the parsed
 * value) one UTF-16 unit of the received text can become at most. Strings
 * never grow beyond 3 bytes a unit (a character of the Basic Multilingual
 * Plane written as itself; escapes are written back no longer than they
 * came); literals and punctuation stay as they are or go (whitespace,
 * duplicate keys); a number grows the most: "1e20" (4 units) is written as
 * 21 digits. So 21/4 < 6.
 */
const CANONICAL_GROWTH = 6;

/**
 * False when the canonical JSON of a text of `textUnits` UTF-16 units
 * cannot exceed `limitBytes`, so the parsed value need not be serialised
 * again to be measured; true when it must be.
 */
export function canonicalJsonMayExceed(textUnits: number, limitBytes: number): boolean {
  return textUnits * CANONICAL_GROWTH > limitBytes;
}
