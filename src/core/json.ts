// Parsing request JSON with a bound on nesting. Parsers cope with deep
// nesting, but everything after them that walks a value recursively (the
// RPC and structured clone between controller and invoker, stringifying a
// record, an action's own code) overflows its stack somewhere past a few
// thousand levels, so a deep value stored once broke every later invoke.
// Refusing it where it comes in keeps it out of the store and the runtime.
import { Messages, WhiskError } from "./errors.js";

/** Deepest nesting of objects and arrays a request's JSON may have. */
export const MAX_JSON_DEPTH = 256;

/** How deeply objects and arrays nest in `value` (0 for a scalar); stops counting past `limit`. */
export function jsonDepth(value: unknown, limit = Infinity): number {
  let deepest = 0;
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length) {
    const [item, depth] = pending.pop()!;
    if (item === null || typeof item !== "object") continue;
    const level = depth + 1;
    if (level > deepest) deepest = level;
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(item) ? item : Object.values(item)) {
      if (child !== null && typeof child === "object") pending.push([child, level]);
    }
  }
  return deepest;
}

/** JSON.parse for request bodies: OpenWhisk's 400 for malformed text or nesting deeper than MAX_JSON_DEPTH. */
export function parseRequestJson(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new WhiskError(400, `${Messages.malformedJson}\n${(err as Error).message}`);
  }
  if (jsonDepth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw new WhiskError(400, `${Messages.malformedJson}\nJSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
  return value;
}
