// What every collection's PUT, GET and DELETE share: the one name space per
// entity path, 409s for existing or concurrently changed entities, and the
// caller's right to change only its own namespace.
import { isOfCollection, type Collection, type CollectionDocs, type EntityDraft, type StoredEntity } from "../core/entities.js";
import { getEntityOf, NOT_FOUND_OR_CONFORMANCE } from "../core/entity-reads.js";
import { Messages, WhiskError, forbidden, notFound } from "../core/errors.js";
import { isValidEntityName, parseEntityRoute, qualifiedName, resolveNamespace, type EntityRef } from "../core/names.js";
import type { CodeBlob, Store } from "../ports/store.js";
import type { Identity } from "../ports/identity.js";
import type { ApiContext } from "./context.js";

/**
 * The entity path a route's namespace segment names. As OpenWhisk reads it,
 * the segment is an entity path: split on `/` (an encoded slash arrives
 * decoded), empty parts dropped, so `%2Fwhisk.system` is `whisk.system` and
 * `guest%2Fpkg` is package `pkg` of `guest` — clients send both forms. `_`
 * is the caller's namespace. A part no entity name could be (a NUL, say) is
 * refused before any store sees it.
 */
export function routePath(c: ApiContext): { namespace: string; packageName?: string } {
  const parts = c.req.param("namespace")!.split("/").filter((part) => part.length > 0);
  if (parts.length < 1 || parts.length > 2 || !parts.every(isValidEntityName)) {
    throw new WhiskError(400, Messages.namespaceIllegal);
  }
  const namespace = resolveNamespace(parts[0], c.get("identity").namespace);
  return parts.length === 2 ? { namespace, packageName: parts[1] } : { namespace };
}

/**
 * The namespace a route names, for collections that live directly in one:
 * a path into a package holds none of them (nothing there to list).
 */
export function routeNamespace(c: ApiContext): string {
  const path = routePath(c);
  if (path.packageName !== undefined) throw notFound();
  return path.namespace;
}

/**
 * The entity a route names. Route parameters arrive decoded, so an encoded
 * slash (`x%2Fy`) in a name segment is a character of that segment, which no
 * entity name may hold: 400, rather than an entity stored under a path
 * nobody can fetch.
 */
export function routeRef(c: ApiContext): EntityRef {
  const path = routePath(c);
  const pkg = c.req.param("pkg");
  const name = c.req.param("name")!;
  if (name.includes("/") || pkg?.includes("/")) throw new WhiskError(400, Messages.entityNameIllegal);
  const tail = [path.packageName, pkg, name].filter((part) => part !== undefined);
  return parseEntityRoute(path.namespace, tail.join("/"));
}

/** Writes go only to the caller's own namespace. */
export function assertOwner(identity: Identity, ref: EntityRef | string): void {
  const namespace = typeof ref === "string" ? ref : ref.namespace;
  if (namespace !== identity.namespace) throw forbidden(typeof ref === "string" ? ref : qualifiedName(ref));
}

export interface Built<C extends Collection> {
  doc: CollectionDocs[C];
  /** New code to store (actions). */
  code?: CodeBlob;
  /** The code the entity refers to: the new code's digest, or the one it already had. */
  codeDigest?: string;
}

/** PUT semantics: create, or with `overwrite` update, answering OpenWhisk's 409s. */
export async function putEntity<C extends Collection>(
  store: Store,
  ref: EntityRef,
  collection: C,
  overwrite: boolean,
  make: {
    create: () => Promise<Built<C>>;
    update: (existing: StoredEntity<C>) => Promise<Built<C>>;
  },
): Promise<EntityDraft<C>> {
  const existing = await store.getEntity(ref);
  if (existing && !isOfCollection(existing, collection)) throw NOT_FOUND_OR_CONFORMANCE.otherCollection();
  if (existing && !overwrite) throw new WhiskError(409, Messages.entityExists);
  const built = existing ? await make.update(existing) : await make.create();
  const entity: EntityDraft<C> = {
    collection,
    ref,
    doc: built.doc,
    ...(built.codeDigest ? { codeDigest: built.codeDigest } : {}),
  };
  const stored = existing
    ? await store.updateEntity(entity, existing.rev, built.code)
    : await store.createEntity(entity, built.code);
  if (!stored) throw new WhiskError(409, Messages.conflict);
  return entity;
}

export async function deleteEntity<C extends Collection>(store: Store, ref: EntityRef, collection: C): Promise<StoredEntity<C>> {
  return deleteStored(store, await getEntityOf(store, collection, ref));
}

/** Deletes an entity already read, answering 409 if it changed since. */
export async function deleteStored<E extends StoredEntity>(store: Store, entity: E): Promise<E> {
  if (!(await store.deleteEntity(entity.ref, entity.rev))) throw new WhiskError(409, Messages.conflict);
  return entity;
}
