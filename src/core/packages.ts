// Building package documents from PUT bodies, as OpenWhisk's controller does:
// the binding annotation is always the controller's own, updates keep what
// the PUT leaves out, and a package never turns into a binding.
import semver from "semver";
import { entitySummary, type KeyValue, type PackageDoc, type PackagePut } from "./entities.js";
import { Messages, WhiskError } from "./errors.js";
import type { EntityRef } from "./names.js";

export type Binding = { namespace: string; name: string };

export const RESERVED_PACKAGE_NAMES = new Set(["default"]);

export function bindingOf(doc: PackageDoc): Binding | undefined {
  return "namespace" in doc.binding ? (doc.binding as Binding) : undefined;
}

/** The binding a PUT asks for, with `_` standing for the package's own namespace. */
export function requestedBinding(put: PackagePut, namespace: string): Binding | undefined {
  const binding = put.binding;
  if (!binding || !("namespace" in binding)) return undefined;
  const b = binding as Binding;
  return { namespace: b.namespace === "_" ? namespace : b.namespace, name: b.name };
}

function withBindingAnnotation(annotations: readonly KeyValue[], binding: Binding | undefined): KeyValue[] {
  const rest = annotations.filter((kv) => kv.key !== "binding");
  return binding ? [...rest, { key: "binding", value: binding }] : rest;
}

export function createPackage(ref: EntityRef, put: PackagePut, binding: Binding | undefined, now: number): PackageDoc {
  return {
    namespace: ref.namespace,
    name: ref.name,
    version: put.version ?? "0.0.1",
    publish: put.publish ?? false,
    binding: binding ?? {},
    parameters: put.parameters ?? [],
    annotations: withBindingAnnotation(put.annotations ?? [], binding),
    updated: now,
  };
}

export function updatePackage(existing: PackageDoc, put: PackagePut, binding: Binding | undefined, now: number): PackageDoc {
  const current = bindingOf(existing);
  if (binding && !current) throw new WhiskError(409, Messages.packageCannotBecomeBinding);
  const effective = binding ?? current;
  return {
    namespace: existing.namespace,
    name: existing.name,
    version: put.version ?? semver.inc(existing.version, "patch") ?? existing.version,
    publish: put.publish ?? existing.publish,
    binding: effective ?? {},
    parameters: put.parameters ?? existing.parameters,
    annotations: withBindingAnnotation(put.annotations ?? existing.annotations, effective),
    updated: now,
  };
}

export function packageListItem(doc: PackageDoc) {
  return { ...entitySummary(doc), binding: bindingOf(doc) ?? false };
}
