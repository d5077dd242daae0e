// Paging of collection lists: limit (default 30, at most 200, 0 = the
// maximum), skip and count, with OpenWhisk's messages for bad values.
import { Messages, WhiskError } from "../core/errors.js";
import { LIMITS } from "../core/limits.js";
import type { ListPage } from "../ports/store.js";
import type { ApiContext } from "./context.js";

const INT_MAX = 2 ** 31 - 1;

/** OpenWhisk reads limit and skip as 32-bit integers: anything outside is "not an integer". */
function integer(collection: string, text: string): number {
  const value = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || Math.abs(value) > INT_MAX) {
    throw new WhiskError(400, Messages.argumentNotInteger(collection, text));
  }
  return value;
}

export function listPage(c: ApiContext, collection: string): ListPage {
  const limitText = c.req.query("limit");
  const skipText = c.req.query("skip");
  let limit: number = LIMITS.list.std;
  if (limitText !== undefined) {
    limit = integer(collection, limitText);
    if (limit < 0 || limit > LIMITS.list.max) {
      throw new WhiskError(400, Messages.listLimitOutOfRange(collection, limit, LIMITS.list.max));
    }
    if (limit === 0) limit = LIMITS.list.max;
  }
  let skip = 0;
  if (skipText !== undefined) {
    skip = integer(collection, skipText);
    if (skip < 0) throw new WhiskError(400, Messages.listSkipOutOfRange(collection, skip));
  }
  return { limit, skip };
}

export function isTrue(value: string | undefined): boolean {
  return value !== undefined && value.toLowerCase() === "true";
}
