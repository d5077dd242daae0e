// /namespaces/{ns}/triggers: triggers, and firing them.
import { Hono } from "hono";
import { getAnnotation, TriggerPut } from "../core/entities.js";
import { getEntityOf } from "../core/entity-reads.js";
import { createTrigger, triggerListItem, updateTrigger } from "../core/triggers.js";
import { invokeFeed } from "../activation/feed-lifecycle.js";
import { fireTrigger } from "../activation/fire.js";
import { invocationParams } from "./actions.js";
import { parseBody, readJson } from "./body.js";
import { ACTIVATION_ID_HEADER, actionApiHost, type ApiContext, type ApiEnv } from "./context.js";
import { assertOwner, deleteEntity, putEntity, routeNamespace, routeRef } from "./crud.js";
import { isTrue, listPage } from "./list.js";

/** Request headers never handed to actions: the caller's credentials. */
const WITHHELD_HEADERS = new Set(["authorization", "cookie"]);

async function list(c: ApiContext) {
  const namespace = routeNamespace(c);
  assertOwner(c.get("identity"), namespace);
  const { store } = c.get("platform");
  if (isTrue(c.req.query("count"))) return c.json({ triggers: await store.countEntities(namespace, "triggers") });
  const triggers = await store.listEntities(namespace, "triggers", listPage(c, "triggers"));
  return c.json(triggers.map((t) => triggerListItem(t.doc)));
}

async function get(c: ApiContext) {
  const ref = routeRef(c);
  assertOwner(c.get("identity"), ref);
  const trigger = await getEntityOf(c.get("platform").store, "triggers", ref);
  return c.json(trigger.doc);
}

async function put(c: ApiContext) {
  const ref = routeRef(c);
  assertOwner(c.get("identity"), ref);
  const body = parseBody(TriggerPut, await readJson(c));
  const now = Date.now();
  const platform = c.get("platform");
  try {
    const entity = await putEntity(platform.store, ref, "triggers", isTrue(c.req.query("overwrite")), {
      create: async () => ({ doc: createTrigger(ref, body, now) }),
      update: async (existing) => ({ doc: updateTrigger(existing.doc, body, now) }),
    });
    return c.json(entity.doc);
  } finally {
    platform.triggers.forget([ref]);
  }
}

async function remove(c: ApiContext) {
  const identity = c.get("identity");
  const ref = routeRef(c);
  assertOwner(identity, ref);
  const platform = c.get("platform");
  const trigger = await getEntityOf(platform.store, "triggers", ref);
  const feed = getAnnotation(trigger.doc.annotations, "feed");
  if (typeof feed === "string") {
    // Stop the feed before the trigger goes (the CLI does this too; feeds treat a repeat as done).
    await invokeFeed(platform, identity, feed, "DELETE", ref, {}, new URL(c.req.url).origin, c.get("transactionId")).catch(
      (err) => console.error(`feed DELETE for /${ref.namespace}/${ref.name} failed:`, err),
    );
  }
  try {
    const deleted = await deleteEntity(platform.store, ref, "triggers");
    return c.json(deleted.doc);
  } finally {
    platform.triggers.forget([ref]);
  }
}

async function fire(c: ApiContext) {
  const identity = c.get("identity");
  const ref = routeRef(c);
  const platform = c.get("platform");
  await platform.throttle.admit(identity.namespace, "fire");
  assertOwner(identity, ref);
  const payload = await invocationParams(c);
  const headers: Record<string, string> = {};
  c.req.raw.headers.forEach((value, name) => {
    if (!WITHHELD_HEADERS.has(name.toLowerCase())) headers[name.toLowerCase()] = value;
  });
  // Carried out before the answer (OpenWhisk's controller activates the rules itself); see fire.ts.
  const activationId = await fireTrigger(platform, {
    identity,
    trigger: ref,
    payload,
    headers,
    apiHost: actionApiHost(c),
    transactionId: c.get("transactionId"),
  });
  if (!activationId) return c.body(null, 204);
  c.header(ACTIVATION_ID_HEADER, activationId);
  return c.json({ activationId }, 202);
}

export const triggerRoutes = new Hono<ApiEnv>()
  .get("/:namespace/triggers", list)
  .get("/:namespace/triggers/:name", get)
  .put("/:namespace/triggers/:name", put)
  .delete("/:namespace/triggers/:name", remove)
  .post("/:namespace/triggers/:name", fire);

