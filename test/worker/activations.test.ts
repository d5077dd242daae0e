// The activations collection: list filters, paging, and reading records.
import { beforeAll, describe, expect, it } from "vitest";
import { call, createAction, OTHER_KEY, seedNamespaces, store, waitForActivation } from "./helpers.js";

const base = "/api/v1/namespaces/_/activations";
const ids: Record<string, string[]> = { alpha: [], beta: [] };
let middle = 0;

beforeAll(async () => {
  await seedNamespaces();
  await createAction("alpha", "function main(p) { console.log('alpha ran'); return { who: 'alpha' } }");
  await createAction("beta", "function main(p) { return { who: 'beta' } }");
  for (const name of ["alpha", "beta", "alpha"]) {
    const res = await call("POST", `/api/v1/namespaces/_/actions/${name}?blocking=true`);
    ids[name].push(res.body.activationId);
    if (name === "beta") {
      await new Promise((resolve) => setTimeout(resolve, 20));
      middle = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  // Records reach D1 a moment after the blocking answer (write-behind).
  for (const id of [...ids.alpha, ...ids.beta]) await waitForActivation(id);
});

describe("listing activations", () => {
  it("lists newest first as summaries without response or logs", async () => {
    const res = await call("GET", `${base}?limit=3`);
    expect(res.status).toBe(200);
    expect(res.body.map((a: { activationId: string }) => a.activationId)).toEqual([ids.alpha[1], ids.beta[0], ids.alpha[0]]);
    expect(res.body[0]).not.toHaveProperty("response");
    expect(res.body[0]).not.toHaveProperty("logs");
    expect(res.body[0]).toMatchObject({ name: "alpha", namespace: "guest", statusCode: 0 });
  });

  it("filters by name, time, and pages with skip", async () => {
    const byName = await call("GET", `${base}?name=alpha`);
    expect(byName.body.map((a: { activationId: string }) => a.activationId)).toEqual([ids.alpha[1], ids.alpha[0]]);
    const since = await call("GET", `${base}?since=${middle}`);
    expect(since.body.map((a: { activationId: string }) => a.activationId)).toEqual([ids.alpha[1]]);
    const upto = await call("GET", `${base}?upto=${middle}&name=alpha`);
    expect(upto.body.map((a: { activationId: string }) => a.activationId)).toEqual([ids.alpha[0]]);
    const skipped = await call("GET", `${base}?name=alpha&skip=1&limit=1`);
    expect(skipped.body.map((a: { activationId: string }) => a.activationId)).toEqual([ids.alpha[0]]);
  });

  it("answers full records with docs=true and a count with count=true", async () => {
    const docs = await call("GET", `${base}?name=beta&docs=true`);
    expect(docs.body[0].response.result).toEqual({ who: "beta" });
    const count = await call("GET", `${base}?name=alpha&count=true`);
    expect(count.body).toEqual({ activations: 2 });
  });

  it("refuses bad filters with OpenWhisk's messages", async () => {
    expect((await call("GET", `${base}?docs=true&count=true`)).body.error).toBe(
      "The parameter 'docs' is not permitted with 'count'.",
    );
    expect((await call("GET", `${base}?since=yesterday`)).body.error).toBe(
      "Parameter is not a valid value for epoch seconds: yesterday",
    );
    expect((await call("GET", `${base}?limit=500`)).status).toBe(400);
  });
});

describe("reading an activation", () => {
  it("answers the record, its logs and its result", async () => {
    const id = ids.alpha[0];
    const record = await call("GET", `${base}/${id}`);
    expect(record.body).toMatchObject({ activationId: id, name: "alpha", response: { result: { who: "alpha" } } });
    const logs = await call("GET", `${base}/${id}/logs`);
    expect(logs.body.logs).toHaveLength(1);
    expect(logs.body.logs[0]).toMatch(/stdout: alpha ran$/);
    const result = await call("GET", `${base}/${id}/result`);
    expect(result.body).toEqual({ status: "success", statusCode: 0, success: true, result: { who: "alpha" } });
  });

  it("answers 400 for a malformed id and 404 for an unknown one", async () => {
    const bad = await call("GET", `${base}/not-an-id`);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe("The activation id is not valid.");
    expect((await call("GET", `${base}/${"0".repeat(32)}`)).status).toBe(404);
  });

  it("never shows one namespace's activations to another", async () => {
    const id = ids.alpha[0];
    expect((await call("GET", `/api/v1/namespaces/_/activations/${id}`, { auth: OTHER_KEY })).status).toBe(404);
    expect((await call("GET", `/api/v1/namespaces/guest/activations/${id}`, { auth: OTHER_KEY })).status).toBe(403);
    expect((await call("GET", "/api/v1/namespaces/_/activations", { auth: OTHER_KEY })).body).toEqual([]);
  });
});

describe("expiry", () => {
  it("removes activations older than a week when the daily cron runs, keeping recent ones", async () => {
    const { createScheduledController, createExecutionContext, waitOnExecutionContext } = await import("cloudflare:test");
    const { env } = await import("cloudflare:workers");
    const worker = (await import("../../src/cloudflare/worker.js")).default;
    const old = { ...(await store().getActivation("guest", ids.beta[0]))!, activationId: "f".repeat(32), start: 1, end: 2 };
    await store().putActivation(old);
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "17 3 * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    expect(await store().getActivation("guest", old.activationId)).toBeUndefined();
    expect(await store().getActivation("guest", ids.beta[0])).toBeDefined();
  });
});
