// The /whisk.system catalog, present in every install: published packages of
// ordinary actions whose code ships with edgewhisk. Installing is idempotent
// and brings entities up to date when the shipped code changes.
import { createAction, updateAction, withoutCode } from "../core/actions.js";
import { sha256Hex } from "../core/digest.js";
import type { ActionDoc, EntityDraft, PackageDoc } from "../core/entities.js";
import { findEntityOf } from "../core/entity-reads.js";
import { DEFAULT_NODEJS_KIND } from "../core/kinds.js";
import type { EntityRef } from "../core/names.js";
import { createPackage } from "../core/packages.js";
import type { Store } from "../ports/store.js";
import { alarmsActions } from "./alarms.js";
import { samplesActions } from "./samples.js";
import { utilsActions } from "./utils.js";

export const CATALOG_NAMESPACE = "whisk.system";

interface CatalogAction {
  description: string;
  code: string;
  annotations?: { key: string; value: unknown }[];
}

const PACKAGES: { name: string; description: string; feeds: boolean; actions: Record<string, CatalogAction> }[] = [
  { name: "utils", description: "Building blocks that format and assemble data", feeds: false, actions: utilsActions },
  { name: "alarms", description: "Alarms and periodic utility", feeds: true, actions: alarmsActions },
  { name: "samples", description: "A suite of simple actions to help you get started with OpenWhisk", feeds: false, actions: samplesActions },
];

async function ensurePackage(store: Store, name: string, description: string): Promise<void> {
  const ref: EntityRef = { namespace: CATALOG_NAMESPACE, name };
  const doc: PackageDoc = createPackage(
    ref,
    { publish: true, annotations: [{ key: "description", value: description }] },
    undefined,
    Date.now(),
  );
  await store.createEntity({ collection: "packages", ref, doc });
}

async function ensureAction(store: Store, ref: EntityRef, code: string, annotations: ActionDoc["annotations"]) {
  const digest = await sha256Hex(code);
  const existing = await findEntityOf(store, "actions", ref);
  const exec = { kind: DEFAULT_NODEJS_KIND, code, binary: false };
  const now = Date.now();
  const full = existing
    ? updateAction(existing.doc, { annotations }, exec, now)
    : createAction(ref, { annotations }, exec, now);
  const entity: EntityDraft<"actions"> = { collection: "actions", ref, doc: withoutCode(full), codeDigest: digest };
  const blob = { digest, text: code };
  if (existing) await store.updateEntity(entity, existing.rev, blob);
  else await store.createEntity(entity, blob);
}

/**
 * Installs what is missing or out of date. Every new controller isolate
 * calls this, so the usual case — all in place — costs two reads.
 */
export async function installCatalog(store: Store): Promise<void> {
  const everything = { limit: 10_000, skip: 0 };
  const [packages, actions] = await Promise.all([
    store.listEntities(CATALOG_NAMESPACE, "packages", everything),
    store.listEntities(CATALOG_NAMESPACE, "actions", everything),
  ]);
  const installed = new Set(packages.map((p) => p.ref.name));
  const digests = new Map(actions.map((a) => [`${a.ref.packageName}/${a.ref.name}`, a.codeDigest]));
  for (const pkg of PACKAGES) {
    if (!installed.has(pkg.name)) await ensurePackage(store, pkg.name, pkg.description);
    for (const [name, action] of Object.entries(pkg.actions)) {
      if (digests.get(`${pkg.name}/${name}`) === (await sha256Hex(action.code))) continue;
      const annotations = [
        { key: "description", value: action.description },
        ...(pkg.feeds ? [{ key: "feed", value: true }] : []),
        ...(action.annotations ?? []),
      ];
      await ensureAction(store, { namespace: CATALOG_NAMESPACE, packageName: pkg.name, name }, action.code, annotations);
    }
  }
}
