// Renders every failure as OpenWhisk's `{"error": ..., "code": ...}` body.
import type { ErrorHandler, NotFoundHandler } from "hono";
import { Messages, WhiskError } from "../core/errors.js";
import type { ApiEnv } from "./context.js";

export const renderError: ErrorHandler<ApiEnv> = (err, c) => {
  const code = c.get("transactionId");
  if (err instanceof WhiskError) {
    for (const [name, value] of Object.entries(err.headers)) c.header(name, value);
    return c.json({ error: err.message, code }, err.status as 400);
  }
  console.error(`[${code}] internal error:`, err);
  return c.json({ error: "There was an internal server error.", code }, 500);
};

export const renderNotFound: NotFoundHandler<ApiEnv> = (c) =>
  c.json({ error: Messages.resourceDoesNotExist, code: c.get("transactionId") }, 404);

/** A route exists for the path but not for this method. */
export function methodNotAllowed(allowed: string[]): WhiskError {
  return new WhiskError(405, `${Messages.methodNotAllowed} ${allowed.join(", ")}`, { Allow: allowed.join(", ") });
}
