// What wskadmin does to a store, whichever database holds it: creates and
// deletes subjects (API keys and their namespaces) and sets, reads and
// deletes namespace limits. Answers the lines wskadmin prints; bad input
// throws AdminUsageError. Keys are stored only as their hash (core/auth).
import { bytesToBase64 } from "../core/base64.js";
import { hashAuthKey, parseAuthKey } from "../core/auth.js";
import { isValidEntityName } from "../core/names.js";
import type { LIMIT_FIELDS, NamespaceLimits } from "../core/throttle.js";
import type { Store } from "../ports/store.js";

/** Input wskadmin refuses: the message (if any) is printed above the usage. */
export class AdminUsageError extends Error {
  constructor(message = "") {
    super(message);
  }
}

/** core's limit fields in wskadmin's order: its usage, and the order `limits set` stores and `limits get` prints. */
export const LIMIT_NAMES = ["invocationsPerMinute", "firesPerMinute", "concurrentInvocations"] as const satisfies readonly (typeof LIMIT_FIELDS)[number][];

export type LimitName = (typeof LIMIT_NAMES)[number];

/** A command line's words and options, as given. */
export interface AdminCommand {
  noun?: string;
  verb?: string;
  /** The namespace, or for `user delete` the uuid. */
  subject?: string;
  auth?: string;
  limits: Partial<Record<LimitName, string>>;
}

export type AdminStore = Pick<Store, "putSubject" | "getNamespaceLimits" | "putNamespaceLimits"> & {
  deleteSubject(uuid: string): Promise<void>;
};

/** A fresh `uuid:key`, the key 64 base64url characters (48 random bytes). */
export function newAuthKey(): string {
  const key = bytesToBase64(crypto.getRandomValues(new Uint8Array(48))).replaceAll("+", "-").replaceAll("/", "_");
  return `${crypto.randomUUID()}:${key}`;
}

/** Runs one wskadmin command against the store; answers the lines to print. */
export async function runAdminCommand(store: AdminStore, command: AdminCommand, authKey: () => string = newAuthKey): Promise<string[]> {
  const { noun, verb, subject } = command;
  if (noun === "limits") return limitsCommand(store, command);
  if (noun !== "user" || !verb) throw new AdminUsageError();
  if (verb === "create") {
    if (!subject || !isValidEntityName(subject)) throw new AdminUsageError("a valid namespace name is required");
    const auth = command.auth ?? authKey();
    const credentials = parseAuthKey(auth);
    if (!credentials) throw new AdminUsageError("--auth must have the form uuid:key");
    await store.putSubject({ uuid: credentials.uuid, keyHash: await hashAuthKey(credentials), namespace: subject, subject });
    return [auth];
  }
  if (verb === "delete") {
    if (!subject) throw new AdminUsageError("the uuid of the key to delete is required");
    await store.deleteSubject(subject);
    return [`deleted ${subject}`];
  }
  throw new AdminUsageError(`unknown command: ${verb}`);
}

async function limitsCommand(store: AdminStore, { verb, subject: namespace, limits: given }: AdminCommand): Promise<string[]> {
  if (!namespace) throw new AdminUsageError("a namespace is required");
  if (verb === "get") {
    const limits = await store.getNamespaceLimits(namespace);
    const lines = Object.entries(limits).map(([name, value]) => `${name} = ${value}`);
    return lines.length ? lines : ["No limits found, default system limits apply"];
  }
  if (verb === "set") {
    const changes: NamespaceLimits = {};
    for (const name of LIMIT_NAMES) {
      if (given[name] === undefined) continue;
      const value = Number(given[name]);
      if (!Number.isInteger(value) || value < 0) throw new AdminUsageError(`--${name} must be a whole number of 0 or more`);
      changes[name] = value;
    }
    if (Object.keys(changes).length === 0) throw new AdminUsageError(`give at least one of ${LIMIT_NAMES.map((n) => `--${n}`).join(", ")}`);
    await store.putNamespaceLimits(namespace, { ...(await store.getNamespaceLimits(namespace)), ...changes });
    return ["Limits successfully set"];
  }
  if (verb === "delete") {
    await store.putNamespaceLimits(namespace, undefined);
    return ["Limits deleted"];
  }
  throw new AdminUsageError(`unknown command: limits ${verb}`);
}
