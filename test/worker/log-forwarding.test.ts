// Adobe I/O Runtime's log-forwarding settings, as aio-lib-runtime's
// LogForwarding class and `aio rt activation logs` call them.
import { beforeAll, describe, expect, it } from "vitest";
import { call, OTHER_KEY, seedNamespaces } from "./helpers.js";

beforeAll(seedNamespaces);

describe("/runtime/namespaces/{ns}/logForwarding", () => {
  it("answers the namespace's setting: logs stay in the platform", async () => {
    const res = await call("GET", "/runtime/namespaces/guest/logForwarding", { headers: { "content-type": "application/json" } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ adobe_io_runtime: {} });
    const errors = await call("GET", "/runtime/namespaces/guest/logForwarding/errors");
    expect(errors.body).toEqual({ destination: "adobe_io_runtime", errors: [] });
  });

  it("keeps the platform destination and refuses others with a 400", async () => {
    const kept = await call("PUT", "/runtime/namespaces/guest/logForwarding", { body: { adobe_io_runtime: {} } });
    expect(kept.body).toEqual({ adobe_io_runtime: {} });
    const refused = await call("PUT", "/runtime/namespaces/guest/logForwarding", { body: { splunk_hec: { host: "h" } } });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: expect.stringContaining("'splunk_hec' is not supported"), code: expect.any(String) });
  });

  it("is the owner's alone, behind the API key", async () => {
    expect((await call("GET", "/runtime/namespaces/guest/logForwarding", { auth: OTHER_KEY })).status).toBe(403);
    expect((await call("GET", "/runtime/namespaces/guest/logForwarding", { auth: null })).status).toBe(401);
  });
});
