// Finding the action a caller names, through packages and bindings, with
// OpenWhisk's entitlement rules: a namespace reaches another namespace's
// actions only through a published package, and answers 403 (not 404) for
// what it may not see, so existence never leaks across namespaces. Also the
// cache of resolved actions that controllers and invokers keep between
// invokes, and when it forgets them.
import { ReadThroughCache } from "./cache.js";
import { Messages, WhiskError, forbidden, notFound } from "./errors.js";
import type { EntityReader, KeyValue, PackageDoc, StoredActionDoc } from "./entities.js";
import { concealed, getEntityOf, NOT_FOUND_OR_CONFORMANCE, type ReadFailures } from "./entity-reads.js";
import { qualifiedName, type EntityRef } from "./names.js";
import { mergeParams } from "./params.js";

export interface ResolvedAction {
  /** Where the action really lives (after following a binding). */
  ref: EntityRef;
  /** The name the caller used. */
  addressed: EntityRef;
  doc: StoredActionDoc;
  codeDigest?: string;
  /** Parameters merged package < binding < action. */
  params: KeyValue[];
  /** `ns/binding` when the action was reached through a package binding. */
  binding?: string;
}

export interface ResolvedPackage {
  /** The package holding the actions (after following a binding). */
  ref: EntityRef;
  doc: PackageDoc;
  /** The package (or binding) the caller named. */
  named: PackageDoc;
  /** Parameters merged package < binding. */
  params: KeyValue[];
  binding?: string;
}

function packageRef(namespace: string, name: string): EntityRef {
  return { namespace, name };
}

/** Owners hear 404/409 about their own packages; anyone else 403, so existence never leaks. */
function packageReadFailures(isOwner: boolean, resource: string): ReadFailures {
  return isOwner ? NOT_FOUND_OR_CONFORMANCE : concealed(resource);
}

/**
 * The package a caller names, following a binding to the package it binds.
 * `resource` names what the caller asked for, for the 403 message.
 */
export async function resolvePackage(
  reader: EntityReader,
  addressed: EntityRef,
  callerNamespace: string,
  resource = qualifiedName(addressed),
): Promise<ResolvedPackage> {
  const isOwner = addressed.namespace === callerNamespace;
  const pkg = await getEntityOf(reader, "packages", addressed, packageReadFailures(isOwner, resource));
  const binding = "namespace" in pkg.doc.binding ? pkg.doc.binding : undefined;
  if (!binding) {
    if (!isOwner && !pkg.doc.publish) throw forbidden(resource);
    return { ref: addressed, doc: pkg.doc, named: pkg.doc, params: pkg.doc.parameters };
  }
  // Bindings are never shared: only their owner may go through them.
  if (!isOwner) throw forbidden(resource);
  const target = packageRef(binding.namespace, binding.name);
  if (target.namespace === addressed.namespace && target.name === addressed.name) {
    throw new WhiskError(422, Messages.packageBindingCircularReference(`${binding.namespace}/${binding.name}`));
  }
  const targetIsOwn = target.namespace === callerNamespace;
  const bound = await getEntityOf(reader, "packages", target, packageReadFailures(targetIsOwn, resource));
  if ("namespace" in bound.doc.binding) throw targetIsOwn ? notFound() : forbidden(resource);
  if (!targetIsOwn && !bound.doc.publish) throw forbidden(resource);
  return {
    ref: target,
    doc: bound.doc,
    named: pkg.doc,
    params: mergeParams(bound.doc.parameters, pkg.doc.parameters),
    binding: `${addressed.namespace}/${addressed.name}`,
  };
}

/** An action of a namespace's default package as its owner resolves it: no package, no binding, its own parameters. */
export function resolvedInDefaultPackage(ref: EntityRef, action: { doc: StoredActionDoc; codeDigest?: string }): ResolvedAction {
  return { ref, addressed: ref, doc: action.doc, codeDigest: action.codeDigest, params: action.doc.parameters };
}

export async function resolveAction(
  reader: EntityReader,
  addressed: EntityRef,
  callerNamespace: string,
): Promise<ResolvedAction> {
  if (!addressed.packageName) {
    if (addressed.namespace !== callerNamespace) throw forbidden(qualifiedName(addressed));
    return resolvedInDefaultPackage(addressed, await getEntityOf(reader, "actions", addressed));
  }
  const pkgRef = packageRef(addressed.namespace, addressed.packageName);
  const pkg = await resolvePackage(reader, pkgRef, callerNamespace, qualifiedName(addressed));
  const ref: EntityRef = { namespace: pkg.ref.namespace, packageName: pkg.ref.name, name: addressed.name };
  const action = await getEntityOf(reader, "actions", ref);
  return {
    ref,
    addressed,
    doc: action.doc,
    codeDigest: action.codeDigest,
    params: mergeParams(pkg.params, action.doc.parameters),
    ...(pkg.binding ? { binding: pkg.binding } : {}),
  };
}

/**
 * How long a resolved action is used without reading the store again. A
 * change made through this controller or invoker is forgotten at once
 * (`invalidate`); one made elsewhere (another controller, another
 * invoker's host) is seen within this long.
 */
export const RESOLUTION_TTL_MS = 10_000;

/** Every entity name a resolution depends on: the action as addressed and as found, and the packages of both. */
function dependencies(resolved: ResolvedAction): string[] {
  const names = [qualifiedName(resolved.addressed), qualifiedName(resolved.ref)];
  for (const ref of [resolved.addressed, resolved.ref]) {
    if (ref.packageName) names.push(qualifiedName(packageRef(ref.namespace, ref.packageName)));
  }
  return names;
}

/** A resolution an invalidation dropped: who resolved which name. */
export interface ForgottenResolution {
  callerNamespace: string;
  addressed: EntityRef;
}

/**
 * Resolved actions kept per caller namespace and addressed name, bounded
 * and expiring. Only successes are kept, so an action created elsewhere is
 * found at once; a 403 or 404 is read again every time.
 */
export class ResolutionCache {
  private readonly entries: ReadThroughCache<ResolvedAction>;

  constructor(options: { ttlMs?: number; maxEntries?: number; now?: () => number } = {}) {
    this.entries = new ReadThroughCache(options.ttlMs ?? RESOLUTION_TTL_MS, options.maxEntries ?? 256, options.now);
  }

  resolve(reader: EntityReader, addressed: EntityRef, callerNamespace: string): Promise<ResolvedAction> {
    return this.entries.get(`${callerNamespace}|${qualifiedName(addressed)}`, () => resolveAction(reader, addressed, callerNamespace));
  }

  /**
   * Forgets every resolution that went through one of these entities: an
   * action by its name or the name it was found under, a package (or
   * binding) with all that was resolved in it. Answers what it forgot.
   */
  invalidate(refs: EntityRef[]): ForgottenResolution[] {
    const names = new Set(refs.map((ref) => qualifiedName(ref)));
    const forgotten: ForgottenResolution[] = [];
    this.entries.invalidate((key, resolved) => {
      if (!dependencies(resolved).some((name) => names.has(name))) return false;
      forgotten.push({ callerNamespace: key.slice(0, key.indexOf("|")), addressed: resolved.addressed });
      return true;
    });
    return forgotten;
  }
}
