// Request bodies: JSON only, bounded in size, malformed input answered as
// OpenWhisk answers it.
import type { z } from "zod";
import { Messages, WhiskError } from "../core/errors.js";
import { parseRequestJson } from "../core/json.js";
import { LIMITS } from "../core/limits.js";
import type { ApiContext } from "./context.js";

/** Reads the body as JSON; undefined when there is none. */
export async function readJson(c: ApiContext): Promise<unknown> {
  return (await readJsonBody(c)).value;
}

/** The body as JSON (undefined when there is none) and the length of the text it was parsed from, in UTF-16 units. */
export async function readJsonBody(c: ApiContext): Promise<{ value: unknown; textLength: number }> {
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > LIMITS.requestBytes) throw tooLarge(declared);
  const text = await c.req.text();
  if (text.length > LIMITS.requestBytes) throw tooLarge(text.length);
  if (text.trim() === "") return { value: undefined, textLength: text.length };
  const type = c.req.header("content-type");
  if (type && !/^application\/(.+\+)?json\b/i.test(type.trim())) {
    throw new WhiskError(415, Messages.unsupportedContentType);
  }
  return { value: parseRequestJson(text), textLength: text.length };
}

function tooLarge(size: number): WhiskError {
  return new WhiskError(413, Messages.entityTooBig("Request", size, LIMITS.requestBytes));
}

/** Validates a JSON object body with a zod schema, answering 400 with the first problem. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  if (body === undefined) body = {};
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new WhiskError(400, `${Messages.malformedJson}\nObject expected`);
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length ? ` (at '${issue.path.join(".")}')` : "";
    throw new WhiskError(400, `${Messages.malformedJson}\n${issue.message}${where}`);
  }
  return parsed.data;
}
