// Reading an entity of one collection. Entity names are one space across
// collections, so a read can miss in two ways OpenWhisk tells apart: nothing
// by that name (404), or the name taken in another collection (409). This is
// the one place that decides which; callers only choose the errors.
import { isOfCollection, type Collection, type EntityReader, type StoredEntity } from "./entities.js";
import { Messages, WhiskError, forbidden, notFound } from "./errors.js";
import type { EntityRef } from "./names.js";

/** The errors a read answers when the entity is missing, or is of another collection. */
export interface ReadFailures {
  missing: () => WhiskError;
  otherCollection: () => WhiskError;
}

/** OpenWhisk's answers for an entity the caller may see: 404, and 409 for a name in another collection. */
export const NOT_FOUND_OR_CONFORMANCE: ReadFailures = {
  missing: notFound,
  otherCollection: () => new WhiskError(409, Messages.conformance),
};

/** For what the caller may not see: 403 either way, so existence never leaks across namespaces. */
export function concealed(resource: string): ReadFailures {
  return { missing: () => forbidden(resource), otherCollection: () => forbidden(resource) };
}

/** The entity at `ref` if it is of `collection`; undefined when missing or of another collection. */
export async function findEntityOf<C extends Collection>(
  reader: EntityReader,
  collection: C,
  ref: EntityRef,
): Promise<StoredEntity<C> | undefined> {
  const entity = await reader.getEntity(ref);
  return entity && isOfCollection(entity, collection) ? entity : undefined;
}

/** The entity at `ref`, which must be of `collection`; otherwise throws `failures`' error. */
export async function getEntityOf<C extends Collection>(
  reader: EntityReader,
  collection: C,
  ref: EntityRef,
  failures: ReadFailures = NOT_FOUND_OR_CONFORMANCE,
): Promise<StoredEntity<C>> {
  const entity = await reader.getEntity(ref);
  if (!entity) throw failures.missing();
  if (!isOfCollection(entity, collection)) throw failures.otherCollection();
  return entity;
}
