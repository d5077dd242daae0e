// /namespaces/{ns}/rules: rules connect a trigger to an action. A rule's
// status lives in its trigger's rule map, as in OpenWhisk; every rule change
// rewrites that map.
import { Hono } from "hono";
import { RulePut, RuleStatusPost, type RuleDoc, type StoredEntity, type TriggerDoc } from "../core/entities.js";
import { findEntityOf, getEntityOf } from "../core/entity-reads.js";
import { Messages, WhiskError, forbidden } from "../core/errors.js";
import { fullyQualifiedName, qualifiedName, type EntityRef } from "../core/names.js";
import { resolveAction, resolvePackage } from "../core/resolve.js";
import {
  parseRuleReference,
  pathAndName,
  refOfPathAndName,
  ruleKey,
  ruleStatus,
  ruleWithStatus,
  withRule,
  createRule,
  updateRule,
  type RuleStatus,
} from "../core/triggers.js";
import type { Platform } from "../ports/platform.js";
import type { Store } from "../ports/store.js";
import { parseBody, readJson } from "./body.js";
import type { ApiContext, ApiEnv } from "./context.js";
import { assertOwner, deleteEntity, putEntity, routeNamespace, routeRef } from "./crud.js";
import { isTrue, listPage } from "./list.js";

/**
 * Rewrites a trigger's rule map, answering OpenWhisk's 409 when the trigger
 * changed meanwhile; this controller's next fire of it reads it again.
 */
async function writeTrigger(
  { store, triggers }: Pick<Platform, "store" | "triggers">,
  trigger: StoredEntity<"triggers">,
  doc: TriggerDoc,
): Promise<void> {
  try {
    if (!(await store.updateEntity({ ...trigger, doc }, trigger.rev))) throw new WhiskError(409, Messages.conflict);
  } finally {
    triggers.forget([trigger.ref]);
  }
}

async function statusOf(store: Store, rule: RuleDoc): Promise<RuleStatus> {
  const trigger = await findEntityOf(store, "triggers", refOfPathAndName(rule.trigger));
  return ruleStatus(trigger?.doc, ruleKey(rule.namespace, rule.name));
}

/**
 * The trigger must be the caller's and exist; the action must be readable by
 * the caller (its own, or in a shared package) and exist. Rights are checked
 * before existence, as OpenWhisk's entitlement runs first.
 */
async function checkReferences(store: Store, callerNamespace: string, trigger: EntityRef, action: EntityRef) {
  if (trigger.namespace !== callerNamespace) throw forbidden(qualifiedName(trigger));
  if (!action.packageName && action.namespace !== callerNamespace) throw forbidden(qualifiedName(action));
  if (action.packageName) {
    await resolvePackage(store, { namespace: action.namespace, name: action.packageName }, callerNamespace);
  }
  const triggerEntity = await findEntityOf(store, "triggers", trigger);
  if (!triggerEntity) throw new WhiskError(400, `trigger ${fullyQualifiedName(trigger)} does not exist`);
  try {
    await resolveAction(store, action, callerNamespace);
  } catch (err) {
    if (err instanceof WhiskError && err.status === 404) {
      throw new WhiskError(400, `action ${fullyQualifiedName(action)} does not exist`);
    }
    throw err;
  }
  return triggerEntity;
}

async function list(c: ApiContext) {
  const namespace = routeNamespace(c);
  assertOwner(c.get("identity"), namespace);
  const { store } = c.get("platform");
  if (isTrue(c.req.query("count"))) return c.json({ rules: await store.countEntities(namespace, "rules") });
  const rules = await store.listEntities(namespace, "rules", listPage(c, "rules"));
  return c.json(rules.map((r) => r.doc));
}

async function get(c: ApiContext) {
  const ref = routeRef(c);
  assertOwner(c.get("identity"), ref);
  const { store } = c.get("platform");
  const rule = await getEntityOf(store, "rules", ref);
  return c.json(ruleWithStatus(rule.doc, await statusOf(store, rule.doc)));
}

async function put(c: ApiContext) {
  const identity = c.get("identity");
  const ref = routeRef(c);
  assertOwner(identity, ref);
  const platform = c.get("platform");
  const { store } = platform;
  const body = parseBody(RulePut, await readJson(c));
  const key = ruleKey(ref.namespace, ref.name);
  const old = (await findEntityOf(store, "rules", ref))?.doc;
  if (!old && (body.trigger === undefined || body.action === undefined)) {
    throw new WhiskError(400, "rule requires a valid trigger and a valid action");
  }
  const triggerRef = body.trigger !== undefined ? parseRuleReference(body.trigger, ref.namespace) : refOfPathAndName(old!.trigger);
  const actionRef = body.action !== undefined ? parseRuleReference(body.action, ref.namespace) : refOfPathAndName(old!.action);
  const trigger = await checkReferences(store, identity.namespace, triggerRef, actionRef);
  const now = Date.now();

  const rule = await putEntity(store, ref, "rules", isTrue(c.req.query("overwrite")), {
    create: async () => ({ doc: createRule(ref, body, triggerRef, actionRef, now) }),
    update: async (stored) => ({ doc: updateRule(stored.doc, body, triggerRef, actionRef, now) }),
  });

  // A new rule starts active; an updated one keeps the status it had on its old trigger.
  let status: RuleStatus = "active";
  if (old) {
    const oldTriggerRef = refOfPathAndName(old.trigger);
    if (qualifiedName(oldTriggerRef) === qualifiedName(triggerRef)) status = ruleStatus(trigger.doc, key);
    else {
      const oldTrigger = await findEntityOf(store, "triggers", oldTriggerRef);
      status = ruleStatus(oldTrigger?.doc, key);
      if (oldTrigger) await writeTrigger(platform, oldTrigger, withRule(oldTrigger.doc, key, undefined, now));
    }
  }
  await writeTrigger(platform, trigger, withRule(trigger.doc, key, { action: pathAndName(actionRef), status }, now));
  return c.json(ruleWithStatus(rule.doc, status));
}

async function setStatus(c: ApiContext) {
  const ref = routeRef(c);
  assertOwner(c.get("identity"), ref);
  const platform = c.get("platform");
  const { store } = platform;
  const { status } = parseBody(RuleStatusPost, await readJson(c));
  const rule = await getEntityOf(store, "rules", ref);
  if ((await statusOf(store, rule.doc)) !== status) {
    const trigger = await findEntityOf(store, "triggers", refOfPathAndName(rule.doc.trigger));
    if (!trigger) throw new WhiskError(404, "Only rules with existing triggers can be activated");
    const key = ruleKey(ref.namespace, ref.name);
    await writeTrigger(platform, trigger, withRule(trigger.doc, key, { action: rule.doc.action, status }, Date.now()));
  }
  return c.text("OK", 200);
}

async function remove(c: ApiContext) {
  const ref = routeRef(c);
  assertOwner(c.get("identity"), ref);
  const platform = c.get("platform");
  const { store } = platform;
  const rule = await getEntityOf(store, "rules", ref);
  const trigger = await findEntityOf(store, "triggers", refOfPathAndName(rule.doc.trigger));
  if (trigger) await writeTrigger(platform, trigger, withRule(trigger.doc, ruleKey(ref.namespace, ref.name), undefined, Date.now()));
  const deleted = await deleteEntity(store, ref, "rules");
  return c.json(ruleWithStatus(deleted.doc, "inactive"));
}

export const ruleRoutes = new Hono<ApiEnv>()
  .get("/:namespace/rules", list)
  .get("/:namespace/rules/:name", get)
  .put("/:namespace/rules/:name", put)
  .delete("/:namespace/rules/:name", remove)
  .post("/:namespace/rules/:name", setStatus);
