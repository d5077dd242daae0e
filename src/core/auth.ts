// API keys: `uuid:key` in Basic auth. Keys are stored only as a SHA-256 of
// "uuid:key"; a subject owns one namespace.
import { sha256Hex } from "./digest.js";

export interface Credentials {
  uuid: string;
  key: string;
}

/** Reads `Authorization: Basic base64(uuid:key)`; undefined when absent or not Basic. */
export function parseBasicAuth(header: string | undefined | null): Credentials | undefined {
  const match = header?.match(/^\s*Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i);
  if (!match) return undefined;
  let decoded: string;
  try {
    decoded = atob(match[1]);
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(":");
  if (colon <= 0) return undefined;
  return { uuid: decoded.slice(0, colon), key: decoded.slice(colon + 1) };
}

/** Parses `uuid:key` as given to the CLI or in GUEST_AUTH. */
export function parseAuthKey(text: string): Credentials | undefined {
  const colon = text.indexOf(":");
  if (colon <= 0 || colon === text.length - 1) return undefined;
  return { uuid: text.slice(0, colon), key: text.slice(colon + 1) };
}

export function hashAuthKey(credentials: Credentials): Promise<string> {
  return sha256Hex(`${credentials.uuid}:${credentials.key}`);
}

/** Compares hex digests without an early exit. */
export function sameDigest(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}
