// Basic auth middleware: resolves the caller's identity, caching verified
// keys briefly so a warm request costs no store read and no hash.
//
// Revocation is by expiry, not by notice: a deleted or replaced key (wskadmin
// user delete) is read again from the store at most CACHE_MS after it was
// last verified, in every controller isolate alike, with nothing to
// broadcast. One second keeps a deleted key's life under 2 s while a busy
// key still costs one store read a second per isolate.
import type { MiddlewareHandler } from "hono";
import { hashAuthKey, parseBasicAuth, sameDigest } from "../core/auth.js";
import { Messages, WhiskError } from "../core/errors.js";
import type { Platform } from "../ports/platform.js";
import type { Identity } from "../ports/identity.js";
import type { ApiEnv } from "./context.js";

const CACHE_MS = 1_000;
const CACHE_MAX = 1_000;
const verified = new Map<string, { identity: Identity; expires: number }>();

const CHALLENGE = { "WWW-Authenticate": 'Basic realm="whisk rest service"' };

/** The identity behind an Authorization header, undefined when absent or wrong. */
export async function identify(platform: Platform, header: string | undefined): Promise<Identity | undefined> {
  if (!header) return undefined;
  const cached = verified.get(header);
  if (cached && cached.expires > Date.now()) return cached.identity;
  const credentials = parseBasicAuth(header);
  if (!credentials) return undefined;
  const subject = await platform.store.findSubject(credentials.uuid);
  if (!subject || !sameDigest(subject.keyHash, await hashAuthKey(credentials))) return undefined;
  const identity: Identity = {
    subject: subject.subject,
    namespace: subject.namespace,
    uuid: subject.uuid,
    authKey: `${credentials.uuid}:${credentials.key}`,
  };
  if (verified.size >= CACHE_MAX) verified.delete(verified.keys().next().value!);
  verified.set(header, { identity, expires: Date.now() + CACHE_MS });
  return identity;
}

export const requireAuth: MiddlewareHandler<ApiEnv> = async (c, next) => {
  const header = c.req.header("authorization");
  if (!header) throw new WhiskError(401, Messages.authenticationRequired, CHALLENGE);
  const identity = await identify(c.get("platform"), header);
  if (!identity) throw new WhiskError(401, Messages.authenticationInvalid, CHALLENGE);
  c.set("identity", identity);
  await next();
};
