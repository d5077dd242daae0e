// Checks on actions that need the store: the package an action goes into,
// the components of a sequence, and which invokers to tell about a change.
import { isSequence, type StoredActionDoc } from "../core/entities.js";
import { getEntityOf } from "../core/entity-reads.js";
import { Messages, WhiskError } from "../core/errors.js";
import { LIMITS } from "../core/limits.js";
import { fullyQualifiedName, qualifiedName, strictQualifiedName, type EntityRef } from "../core/names.js";
import { resolveAction } from "../core/resolve.js";
import type { Platform } from "../ports/platform.js";
import type { Store } from "../ports/store.js";

/** Actions go into an existing package of the caller's, never into a binding. */
export async function assertPackageAcceptsActions(store: Store, ref: EntityRef): Promise<void> {
  if (!ref.packageName) return;
  const pkg = await getEntityOf(store, "packages", { namespace: ref.namespace, name: ref.packageName });
  if ("namespace" in pkg.doc.binding) throw new WhiskError(400, Messages.notAllowedOnBinding);
}

function sameEntity(a: EntityRef, b: EntityRef): boolean {
  return qualifiedName(a) === qualifiedName(b);
}

function parseComponent(component: unknown, callerNamespace: string): EntityRef {
  const ref = typeof component === "string" ? strictQualifiedName(component, callerNamespace) : undefined;
  if (!ref) throw new WhiskError(400, `${Messages.malformedJson}\n${Messages.malformedFullyQualifiedName}`);
  return ref;
}

/**
 * Validates sequence components as OpenWhisk does — length, existence,
 * access, and no path back to the sequence itself through nested sequences —
 * and answers them fully qualified.
 */
export async function validateSequence(
  store: Store,
  sequence: EntityRef,
  components: unknown[],
  callerNamespace: string,
): Promise<string[]> {
  if (components.length > LIMITS.sequenceLength) throw new WhiskError(400, Messages.sequenceIsTooLong);
  if (components.length === 0) throw new WhiskError(400, Messages.sequenceNoComponent);
  const refs = components.map((component) => parseComponent(component, callerNamespace));
  const count = await countAtomicActions(store, sequence, refs, callerNamespace, 0);
  if (count > LIMITS.sequenceLength) throw new WhiskError(400, Messages.sequenceIsTooLong);
  return refs.map(fullyQualifiedName);
}

async function countAtomicActions(
  store: Store,
  sequence: EntityRef,
  components: EntityRef[],
  callerNamespace: string,
  depth: number,
): Promise<number> {
  if (components.length > LIMITS.sequenceLength || depth > LIMITS.sequenceLength) {
    throw new WhiskError(400, Messages.sequenceIsTooLong);
  }
  let total = 0;
  for (const component of components) {
    if (sameEntity(component, sequence)) throw new WhiskError(400, Messages.sequenceIsCyclic);
    let resolved;
    try {
      resolved = await resolveAction(store, component, callerNamespace);
    } catch (err) {
      if (err instanceof WhiskError && err.status === 404) throw new WhiskError(400, Messages.sequenceComponentNotFound);
      throw err;
    }
    if (sameEntity(resolved.ref, sequence)) throw new WhiskError(400, Messages.sequenceIsCyclic);
    const exec = resolved.doc.exec;
    total +=
      isSequence(exec)
        ? await countAtomicActions(
            store,
            sequence,
            exec.components.map((c) => parseComponent(c, callerNamespace)),
            callerNamespace,
            depth + 1,
          )
        : 1;
    if (total > LIMITS.sequenceLength) throw new WhiskError(400, Messages.sequenceIsTooLong);
  }
  return total;
}

/** Code longer than this (in characters) is not carried by an announcement: its invokers read it after the write, as for any change. */
const ANNOUNCED_CODE_MAX_CHARS = 1 << 20;

/**
 * Before a new version of an action of a default package is written: its
 * invokers may start the version's isolate while the write goes on
 * (Invokers.announce). New code goes with it; code over the bound does
 * not, nor the announcement, as the invokers could not read that code
 * before the write. The write does not wait for it: a hint lost or late
 * costs only the head start, and the invalidation after the write still
 * follows.
 */
export function announceVersion(
  platform: Platform,
  ref: EntityRef,
  built: { doc: StoredActionDoc; code?: { digest: string; text: string }; codeDigest?: string },
): void {
  const { code } = built;
  const codeDigest = code?.digest ?? built.codeDigest;
  // A sequence has no code to start an isolate with.
  if (ref.packageName || codeDigest === undefined || (code && code.text.length > ANNOUNCED_CODE_MAX_CHARS)) return;
  const announced = platform.invokers.announce({ ref, doc: built.doc, codeDigest, ...(code ? { code: code.text } : {}) });
  platform.defer(announced.catch((err) => console.error(`announcing a new version of ${qualifiedName(ref)} failed:`, err)));
}

/** After an action changes, this controller and its invokers must drop their cached copies. */
export async function invalidateAction(platform: Platform, ref: EntityRef): Promise<void> {
  platform.resolutions.invalidate([ref]);
  await platform.invokers.invalidate([ref]);
}

/**
 * After a package changes, every action in it (as seen through this name)
 * must be refreshed; this controller also forgets what it resolved through
 * the package or binding itself (a binding holds no actions to list).
 */
export async function invalidatePackage(platform: Platform, pkg: EntityRef): Promise<void> {
  platform.resolutions.invalidate([pkg]);
  const actions = await platform.store.listEntities(pkg.namespace, "actions", { limit: 10_000, skip: 0 }, pkg.name);
  await platform.invokers.invalidate(actions.map((a) => ({ namespace: pkg.namespace, packageName: pkg.name, name: a.ref.name })));
}
