// /namespaces/{ns}/activations: list and read activation records.
import { Hono } from "hono";
import { activationSummary, type ActivationRecord } from "../core/activation.js";
import { Messages, WhiskError, notFound } from "../core/errors.js";
import { isValidActivationId, isValidEntityName } from "../core/names.js";
import type { ActivationFilter } from "../ports/store.js";
import type { ApiContext, ApiEnv } from "./context.js";
import { assertOwner, routeNamespace } from "./crud.js";
import { isTrue, listPage } from "./list.js";

function epoch(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  // Epoch milliseconds, within what both stores hold exactly.
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(Number(text))) throw new WhiskError(400, Messages.badEpoch(text));
  return Number(text);
}

function nameFilter(text: string | undefined): Pick<ActivationFilter, "name" | "packageName"> {
  if (text === undefined) return {};
  const parts = text.split("/");
  if (parts.length > 2 || !parts.every(isValidEntityName)) throw new WhiskError(400, Messages.badNameFilter(text));
  return parts.length === 2 ? { packageName: parts[0], name: parts[1] } : { name: parts[0] };
}

async function list(c: ApiContext) {
  const namespace = routeNamespace(c);
  assertOwner(c.get("identity"), namespace);
  const { store } = c.get("platform");
  const count = isTrue(c.req.query("count"));
  const docs = isTrue(c.req.query("docs"));
  if (count && docs) throw new WhiskError(400, Messages.docsNotAllowedWithCount);
  const filter: ActivationFilter = {
    ...nameFilter(c.req.query("name")),
    since: epoch(c.req.query("since")),
    upto: epoch(c.req.query("upto")),
  };
  if (count) return c.json({ activations: await store.countActivations(namespace, filter) });
  const records = await store.listActivations(namespace, filter, listPage(c, "activations"));
  return c.json(docs ? records : records.map(activationSummary));
}

async function find(c: ApiContext): Promise<ActivationRecord> {
  const namespace = routeNamespace(c);
  assertOwner(c.get("identity"), namespace);
  const id = c.req.param("id")!;
  if (!isValidActivationId(id)) throw new WhiskError(400, Messages.activationIdIllegal);
  const record = await c.get("platform").store.getActivation(namespace, id);
  if (!record) throw notFound();
  return record;
}

export const activationRoutes = new Hono<ApiEnv>()
  .get("/:namespace/activations", list)
  .get("/:namespace/activations/:id", async (c) => c.json(await find(c)))
  .get("/:namespace/activations/:id/logs", async (c) => c.json({ logs: (await find(c)).logs }))
  .get("/:namespace/activations/:id/result", async (c) => c.json((await find(c)).response));
