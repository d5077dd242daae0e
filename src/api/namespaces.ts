// /namespaces: the namespaces a key may use (OpenWhisk keys own exactly one),
// and /namespaces/{ns}/limits: the limits that apply to it.
import { Hono } from "hono";
import { effectiveLimits } from "../core/throttle.js";
import type { ApiEnv } from "./context.js";
import { assertOwner, routeNamespace } from "./crud.js";

export const namespaceRoutes = new Hono<ApiEnv>()
  .get("/", (c) => c.json([c.get("identity").namespace]))
  .get("/:namespace/limits", async (c) => {
    const namespace = routeNamespace(c);
    assertOwner(c.get("identity"), namespace);
    return c.json(effectiveLimits(await c.get("platform").store.getNamespaceLimits(namespace)));
  });
