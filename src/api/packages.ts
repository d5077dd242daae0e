// /namespaces/{ns}/packages: packages and package bindings.
import { Hono } from "hono";
import { PackagePut } from "../core/entities.js";
import { concealed, getEntityOf, type ReadFailures } from "../core/entity-reads.js";
import { Messages, WhiskError, forbidden } from "../core/errors.js";
import { qualifiedName, type EntityRef } from "../core/names.js";
import {
  bindingOf,
  createPackage,
  packageListItem,
  requestedBinding,
  RESERVED_PACKAGE_NAMES,
  updatePackage,
  type Binding,
} from "../core/packages.js";
import { resolvePackage } from "../core/resolve.js";
import type { Store } from "../ports/store.js";
import { parseBody, readJson } from "./body.js";
import type { ApiContext, ApiEnv } from "./context.js";
import { assertOwner, deleteStored, putEntity, routeNamespace, routeRef } from "./crud.js";
import { isTrue, listPage } from "./list.js";
import { invalidatePackage } from "./package-checks.js";

const ALL = { limit: 100_000, skip: 0 };

async function list(c: ApiContext) {
  const identity = c.get("identity");
  const namespace = routeNamespace(c);
  const { store } = c.get("platform");
  const own = namespace === identity.namespace;
  if (isTrue(c.req.query("count"))) {
    const count = own
      ? await store.countEntities(namespace, "packages")
      : (await store.listPublicPackages(namespace, ALL)).length;
    return c.json({ packages: count });
  }
  const page = listPage(c, "packages");
  const packages = own
    ? await store.listEntities(namespace, "packages", page)
    : await store.listPublicPackages(namespace, page);
  return c.json(packages.map((p) => packageListItem(p.doc)));
}

/** A package's actions, split into actions and feeds (actions annotated `feed`). */
async function packageContents(store: Store, pkg: EntityRef) {
  const actions = await store.listEntities(pkg.namespace, "actions", ALL, pkg.name);
  const items = actions.map(({ doc }) => ({ name: doc.name, version: doc.version, annotations: doc.annotations }));
  const isFeed = (item: (typeof items)[number]) => item.annotations.some((kv) => kv.key === "feed");
  return { actions: items.filter((i) => !isFeed(i)), feeds: items.filter(isFeed) };
}

async function get(c: ApiContext) {
  const identity = c.get("identity");
  const ref = routeRef(c);
  const { store } = c.get("platform");
  // Entitlement and binding resolution as for invoking the package's actions.
  const resolved = await resolvePackage(store, ref, identity.namespace, qualifiedName(ref));
  const contents = await packageContents(store, resolved.ref);
  // A binding shows itself with the bound package's parameters under its own, and the bound package's actions.
  return c.json({ ...resolved.named, parameters: resolved.params, ...contents });
}

/** What binding to a package of one's own answers when there is none by that name, or the name is not a package. */
const OWN_BINDING_TARGET: ReadFailures = {
  missing: () => new WhiskError(400, Messages.bindingDoesNotExist),
  otherCollection: () => new WhiskError(409, Messages.requestedBindingIsNotValid),
};

/** A binding must name an existing package, not another binding, that the caller may read. */
async function checkBinding(store: Store, binding: Binding, callerNamespace: string): Promise<void> {
  const ref: EntityRef = { namespace: binding.namespace, name: binding.name };
  const own = binding.namespace === callerNamespace;
  const { doc } = await getEntityOf(store, "packages", ref, own ? OWN_BINDING_TARGET : concealed(qualifiedName(ref)));
  if (!own && !doc.publish) throw forbidden(qualifiedName(ref));
  if (bindingOf(doc)) throw new WhiskError(400, Messages.bindingCannotReferenceBinding);
}

async function put(c: ApiContext) {
  const identity = c.get("identity");
  const ref = routeRef(c);
  assertOwner(identity, ref);
  if (RESERVED_PACKAGE_NAMES.has(ref.name)) throw new WhiskError(400, Messages.packageNameIsReserved(ref.name));
  const platform = c.get("platform");
  const body = parseBody(PackagePut, await readJson(c));
  const binding = requestedBinding(body, ref.namespace);
  if (binding) await checkBinding(platform.store, binding, identity.namespace);
  const now = Date.now();
  const entity = await putEntity(platform.store, ref, "packages", isTrue(c.req.query("overwrite")), {
    create: async () => ({ doc: createPackage(ref, body, binding, now) }),
    update: async (existing) => ({ doc: updatePackage(existing.doc, body, binding, now) }),
  });
  await invalidatePackage(platform, ref);
  return c.json(entity.doc);
}

async function remove(c: ApiContext) {
  const identity = c.get("identity");
  const ref = routeRef(c);
  assertOwner(identity, ref);
  const platform = c.get("platform");
  const existing = await getEntityOf(platform.store, "packages", ref);
  if (!bindingOf(existing.doc)) {
    const actions = await platform.store.listEntities(ref.namespace, "actions", ALL, ref.name);
    if (actions.length > 0 && !isTrue(c.req.query("force"))) {
      const noun = actions.length === 1 ? "entity" : "entities";
      throw new WhiskError(
        409,
        `Package not empty (contains ${actions.length} ${noun}). Set force param or delete package contents.`,
      );
    }
    for (const action of actions) await deleteStored(platform.store, action);
  }
  await invalidatePackage(platform, ref);
  await deleteStored(platform.store, existing);
  return c.json(existing.doc);
}

export const packageRoutes = new Hono<ApiEnv>()
  .get("/:namespace/packages", list)
  .get("/:namespace/packages/:name", get)
  .put("/:namespace/packages/:name", put)
  .delete("/:namespace/packages/:name", remove);

