// /runtime/namespaces/{ns}/logForwarding: the log-forwarding settings of
// Adobe I/O Runtime, the largest OpenWhisk deployment, whose clients read
// them before showing logs (`aio rt activation logs` gives up when this
// answers 404). edgewhisk keeps every activation's logs in its own records
// and forwards them nowhere, so each namespace's setting is Runtime's
// default, `adobe_io_runtime`: logs are read from the platform.
import { Hono } from "hono";
import { WhiskError } from "../core/errors.js";
import { readJson } from "./body.js";
import type { ApiContext, ApiEnv } from "./context.js";
import { assertOwner, routeNamespace } from "./crud.js";

/** The one destination there is: the platform's own activation records. */
const PLATFORM = "adobe_io_runtime";

function ownNamespace(c: ApiContext): string {
  const namespace = routeNamespace(c);
  assertOwner(c.get("identity"), namespace);
  return namespace;
}

export const logForwardingRoutes = new Hono<ApiEnv>()
  .get("/:namespace/logForwarding", (c) => {
    ownNamespace(c);
    return c.json({ [PLATFORM]: {} });
  })
  .get("/:namespace/logForwarding/errors", (c) => {
    ownNamespace(c);
    return c.json({ destination: PLATFORM, errors: [] });
  })
  .put("/:namespace/logForwarding", async (c) => {
    ownNamespace(c);
    const body = await readJson(c);
    const destinations = body && typeof body === "object" && !Array.isArray(body) ? Object.keys(body) : [];
    if (destinations.length !== 1) throw new WhiskError(400, "Give exactly one log forwarding destination.");
    if (destinations[0] !== PLATFORM) {
      throw new WhiskError(400, `Log forwarding to '${destinations[0]}' is not supported: activation logs stay in the platform ('${PLATFORM}').`);
    }
    return c.json({ [PLATFORM]: {} });
  });
