// Entity names, namespaces and fully qualified names, following OpenWhisk's
// EntityName / EntityPath rules.
import { Messages, WhiskError } from "./errors.js";

const NAME_MAX = 256;
const ENTITY_NAME = new RegExp(`^(?:[A-Za-z0-9_]|[A-Za-z0-9_][\\w@ .&-]{0,${NAME_MAX - 2}}[\\w@.&-])$`);
const ACTIVATION_ID = /^[0-9a-f]{32}$/;

/** `_` in a path means the caller's own namespace. */
export const DEFAULT_NAMESPACE = "_";

export function isValidEntityName(name: string): boolean {
  return ENTITY_NAME.test(name);
}

export function isValidActivationId(id: string): boolean {
  return ACTIVATION_ID.test(id);
}

export function resolveNamespace(namespace: string, callerNamespace: string): string {
  return namespace === DEFAULT_NAMESPACE ? callerNamespace : namespace;
}

/** An entity's place: its namespace, the package holding it (if any) and its name. */
export interface EntityRef {
  namespace: string;
  packageName?: string;
  name: string;
}

/** `ns/pkg` for an entity in a package, else `ns` — OpenWhisk's entity path. */
export function entityPath(ref: EntityRef): string {
  return ref.packageName ? `${ref.namespace}/${ref.packageName}` : ref.namespace;
}

/** `ns/pkg/name` or `ns/name`, without a leading slash. */
export function qualifiedName(ref: EntityRef): string {
  return `${entityPath(ref)}/${ref.name}`;
}

/** `/ns/pkg/name` or `/ns/name`. */
export function fullyQualifiedName(ref: EntityRef): string {
  return `/${qualifiedName(ref)}`;
}

/**
 * Resolves a name as OpenWhisk does for rule and sequence references:
 * `name` and `pkg/name` are relative to the caller's namespace, `/ns/name`,
 * `/ns/pkg/name` and `ns/pkg/name` are absolute; `_` stands for the caller.
 * Undefined when the text is not a valid name.
 */
export function resolveQualifiedName(text: string, callerNamespace: string): EntityRef | undefined {
  const leadingSlash = text.startsWith("/");
  const parts = text.split("/").filter((part) => part.length > 0);
  if (parts.length < 1 || parts.length > 3 || !parts.every(isValidEntityName)) return undefined;
  if (leadingSlash && parts.length === 1) return undefined;
  const absolute = leadingSlash || parts.length === 3 ? parts : [callerNamespace, ...parts];
  const namespace = resolveNamespace(absolute[0], callerNamespace);
  return absolute.length === 3
    ? { namespace, packageName: absolute[1], name: absolute[2] }
    : { namespace, name: absolute[1] };
}

/**
 * A strictly fully qualified name, as stored references (sequence components,
 * rule targets) must be: `[/]ns/name` or `[/]ns/pkg/name`, `_` for the caller.
 * Undefined when the text is not one.
 */
export function strictQualifiedName(text: string, callerNamespace: string): EntityRef | undefined {
  const parts = text.split("/").filter((part) => part.length > 0);
  if (parts.length < 2 || parts.length > 3 || !parts.every(isValidEntityName)) return undefined;
  const namespace = resolveNamespace(parts[0], callerNamespace);
  return parts.length === 3 ? { namespace, packageName: parts[1], name: parts[2] } : { namespace, name: parts[1] };
}

/** Like resolveQualifiedName, but throws OpenWhisk's 400 for a malformed name. */
export function parseQualifiedName(text: unknown, callerNamespace: string): EntityRef {
  const ref = typeof text === "string" ? resolveQualifiedName(text, callerNamespace) : undefined;
  if (!ref) throw new WhiskError(400, Messages.malformedFullyQualifiedName);
  return ref;
}

/** Splits the `{name}` or `{pkg}/{name}` tail of a collection route. */
export function parseEntityRoute(namespace: string, tail: string): EntityRef {
  const parts = tail.split("/");
  if (parts.length > 2 || parts.some((part) => !isValidEntityName(part))) {
    throw new WhiskError(400, Messages.entityNameIllegal);
  }
  return parts.length === 2 ? { namespace, packageName: parts[0], name: parts[1] } : { namespace, name: parts[0] };
}
