// /namespaces/{ns}/actions: create, read, list, delete and invoke actions.
import { Hono } from "hono";
import { assertPutSizes, createAction, execFromPut, updateAction, withoutCode } from "../core/actions.js";
import { blockingHttpStatus, newActivationId, type ActivationRecord } from "../core/activation.js";
import { sha256Hex } from "../core/digest.js";
import {
  ActionPut,
  carriesCode,
  entitySummary,
  isSequence,
  type ActionDoc,
  type EntityDraft,
  type Exec,
  type StoredActionDoc,
  type StoredExec,
} from "../core/entities.js";
import { getEntityOf } from "../core/entity-reads.js";
import { Messages, WhiskError, notFound } from "../core/errors.js";
import { canonicalJsonMayExceed, jsonBytes } from "../core/json-size.js";
import { LIMITS } from "../core/limits.js";
import { isValidEntityName, type EntityRef } from "../core/names.js";
import { resolveAction } from "../core/resolve.js";
import type { InvokeRequest } from "../ports/invokers.js";
import type { Store } from "../ports/store.js";
import { leasePlace, startActivation } from "../activation/start.js";
import { archiveBoundsViolation } from "../runtime/archive.js";
import { parseBody, readJson, readJsonBody } from "./body.js";
import { ACTIVATION_ID_HEADER, actionApiHost, type ApiContext, type ApiEnv } from "./context.js";
import { assertOwner, deleteStored, putEntity, routePath, routeRef, type Built } from "./crud.js";
import { isTrue, listPage } from "./list.js";
import { waitFor } from "./wait.js";
import { announceVersion, assertPackageAcceptsActions, invalidateAction, validateSequence } from "./package-checks.js";
import { entityInOrOutOfPackage } from "./routes.js";


/** What to store for an action: new code apart by digest, or the code it already had (sequences have none). */
async function withCodeStored(doc: ActionDoc<Exec | StoredExec>, existingDigest?: string): Promise<Built<"actions">> {
  const { exec } = doc;
  if (!carriesCode(exec)) {
    const stored = withoutCode(doc);
    return isSequence(exec) || !existingDigest ? { doc: stored } : { doc: stored, codeDigest: existingDigest };
  }
  const digest = await sha256Hex(exec.code);
  return { doc: withoutCode(doc), code: { digest, text: exec.code }, codeDigest: digest };
}

/** The stored action with its code put back in (an action whose code is missing shows it empty). */
async function withCode(store: Store, action: Pick<EntityDraft<"actions">, "doc" | "codeDigest">): Promise<ActionDoc> {
  const { doc } = action;
  if (isSequence(doc.exec)) return { ...doc, exec: doc.exec };
  const code = action.codeDigest ? ((await store.getCode(action.codeDigest)) ?? "") : "";
  return { ...doc, exec: { ...doc.exec, code } };
}

function listItem(doc: StoredActionDoc) {
  return { ...entitySummary(doc), limits: doc.limits, exec: { binary: "binary" in doc.exec ? doc.exec.binary : false } };
}

async function list(c: ApiContext) {
  const identity = c.get("identity");
  // The package may come in the namespace segment (`ns%2Fpkg`) or after the collection.
  const path = routePath(c);
  const { namespace } = path;
  assertOwner(identity, namespace);
  const inRoute = c.req.param("pkg");
  if (inRoute !== undefined && !isValidEntityName(inRoute)) throw new WhiskError(400, Messages.entityNameIllegal);
  if (path.packageName !== undefined && inRoute !== undefined) throw notFound();
  const packageName = path.packageName ?? inRoute;
  const { store } = c.get("platform");
  if (isTrue(c.req.query("count"))) {
    return c.json({ actions: await store.countEntities(namespace, "actions", packageName) });
  }
  const page = listPage(c, "actions");
  const entities = await store.listEntities(namespace, "actions", page, packageName);
  return c.json(entities.map((e) => listItem(e.doc)));
}

async function get(c: ApiContext) {
  const identity = c.get("identity");
  const ref = routeRef(c);
  const { store } = c.get("platform");
  const resolved = await resolveAction(store, ref, identity.namespace);
  const action = { doc: { ...resolved.doc, parameters: resolved.params }, codeDigest: resolved.codeDigest };
  const includeCode = c.req.query("code") !== "false";
  return c.json(includeCode ? await withCode(store, action) : action.doc);
}

async function put(c: ApiContext) {
  const identity = c.get("identity");
  const ref = routeRef(c);
  assertOwner(identity, ref);
  const platform = c.get("platform");
  const overwrite = isTrue(c.req.query("overwrite"));
  const body = parseBody(ActionPut, await readJson(c));
  assertPutSizes(body);
  const exec = body.exec ? execFromPut(body.exec) : undefined;
  if (exec && "binary" in exec && exec.binary) {
    const violation = archiveBoundsViolation(exec.code);
    if (violation) throw new WhiskError(400, violation);
  }
  if (exec && isSequence(exec)) {
    exec.components = await validateSequence(platform.store, ref, exec.components, identity.namespace);
  }
  await assertPackageAcceptsActions(platform.store, ref);
  const now = Date.now();
  const entity = await putEntity(platform.store, ref, "actions", overwrite, {
    create: () => withCodeStored(createAction(ref, body, exec, now)),
    update: async (existing) => {
      const built = await withCodeStored(updateAction(existing.doc, body, exec, now), existing.codeDigest);
      // The action's invokers may start the new version while it is written (only an existing action ran before).
      announceVersion(platform, ref, built);
      return built;
    },
  });
  await invalidateAction(platform, ref);
  // New code is in hand; only an update that kept the old code needs it read back.
  const code = exec && "code" in exec ? exec.code : undefined;
  return c.json(code === undefined ? await withCode(platform.store, entity) : { ...entity.doc, exec });
}

async function remove(c: ApiContext) {
  const identity = c.get("identity");
  const ref = routeRef(c);
  assertOwner(identity, ref);
  const platform = c.get("platform");
  const action = await getEntityOf(platform.store, "actions", ref);
  const answer = await withCode(platform.store, action);
  await deleteStored(platform.store, action);
  await invalidateAction(platform, ref);
  return c.json(answer);
}

function waitLimit(c: ApiContext): number {
  const text = c.req.query("timeout");
  if (text === undefined) return LIMITS.blockingWaitMs;
  const ms = Number(text);
  if (!/^\d+$/.test(text) || ms > LIMITS.blockingWaitMs) {
    throw new WhiskError(400, Messages.invalidTimeout(LIMITS.blockingWaitMs));
  }
  return ms;
}

/** Parameters of an invoke: the body, which must be a JSON object when present. */
export async function invocationParams(c: ApiContext): Promise<Record<string, unknown>> {
  const { value: body, textLength } = await readJsonBody(c);
  if (body === undefined) return {};
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new WhiskError(400, `${Messages.malformedJson}\nObject expected`);
  }
  // The limit counts the parameters as JSON would write them, not as sent;
  // only a text long enough to possibly exceed it is serialised again to tell.
  if (canonicalJsonMayExceed(textLength, LIMITS.parametersBytes)) {
    const size = jsonBytes(body);
    if (size > LIMITS.parametersBytes) {
      throw new WhiskError(413, Messages.entityTooBig("Request", size, LIMITS.parametersBytes));
    }
  }
  return body as Record<string, unknown>;
}

export function newInvokeRequest(c: ApiContext, action: EntityRef, params: Record<string, unknown>): InvokeRequest {
  return {
    activationId: newActivationId(),
    transactionId: c.get("transactionId"),
    action,
    identity: c.get("identity"),
    params,
    receivedAt: Date.now(),
    apiHost: actionApiHost(c),
  };
}


function answerRecord(c: ApiContext, record: ActivationRecord, resultOnly: boolean) {
  c.header(ACTIVATION_ID_HEADER, record.activationId);
  const result = record.response.result;
  const body = Array.isArray(result) ? result : resultOnly ? (result ?? {}) : record;
  return c.json(body as object, blockingHttpStatus(record.response) as 200);
}

async function invoke(c: ApiContext) {
  const platform = c.get("platform");
  const ref = routeRef(c);
  await platform.throttle.admit(c.get("identity").namespace, "invoke");
  const blocking = isTrue(c.req.query("blocking"));
  const resultOnly = isTrue(c.req.query("result"));
  const wait = blocking ? waitLimit(c) : 0;
  const params = await invocationParams(c);
  // Queued or running, the activation holds a place of the namespace's concurrentInvocations until it ends.
  if (!blocking) {
    const request = await leasePlace(platform.concurrency, newInvokeRequest(c, ref, params));
    await startActivation(platform, request);
    c.header(ACTIVATION_ID_HEADER, request.activationId);
    return c.json({ activationId: request.activationId }, 202);
  }
  // A blocking activation ends where this controller sees it (the invoker's answer, or its failure), so its
  // place is one this controller holds and gives back itself, before answering; it is not `leased`.
  const request = newInvokeRequest(c, ref, params);
  const { namespace } = request.identity;
  await platform.concurrency.hold(namespace, request.activationId);
  const pending = platform.invokers.invoke(request).finally(() =>
    platform.concurrency.release(namespace, request.activationId).catch((err) => {
      console.error(`activation ${request.activationId}: releasing its place in ${namespace} failed (it expires):`, err);
    }),
  );
  // The release outlives this request if the caller goes away first (Workers end a request's work with it).
  platform.defer(pending.catch(() => undefined));
  const record = await waitFor(pending, wait);
  if (!record) {
    // Answered 202 from here on: the activation must end with a record even if this server dies first.
    await platform.dispatcher.adopt?.({ type: "invoke", request });
    platform.defer(pending.catch((err) => console.error(`activation ${request.activationId} failed late:`, err)));
    c.header(ACTIVATION_ID_HEADER, request.activationId);
    return c.json({ activationId: request.activationId }, 202);
  }
  return answerRecord(c, record, resultOnly);
}

export const actionRoutes = entityInOrOutOfPackage(
  new Hono<ApiEnv>().get("/:namespace/actions", list).get("/:namespace/actions/:pkg/", list),
  "/:namespace/actions",
  { GET: get, PUT: put, DELETE: remove, POST: invoke },
);
