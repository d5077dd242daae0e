// The typed Hono context every route sees.
import type { Context } from "hono";
import type { Platform } from "../ports/platform.js";
import type { Identity } from "../ports/identity.js";

export interface ApiVariables {
  platform: Platform;
  identity: Identity;
  transactionId: string;
}

/** The header OpenWhisk answers invokes, fires and web requests with. */
export const ACTIVATION_ID_HEADER = "x-openwhisk-activation-id";

export type ApiEnv = { Variables: ApiVariables };
export type ApiContext = Context<ApiEnv>;

/** The API host actions started by this request see: the configured one, else the request's origin. */
export function actionApiHost(c: ApiContext): string {
  return c.get("platform").apiHost ?? new URL(c.req.url).origin;
}
