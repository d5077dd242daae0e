// Triggers, rules and firing, through the real queue consumer.
import { beforeAll, describe, expect, it } from "vitest";
import { call, createAction, OTHER_KEY, seedNamespaces, waitForActivation } from "./helpers.js";

const ns = "/api/v1/namespaces/_";

beforeAll(async () => {
  await seedNamespaces();
  await createAction("record", "function main(p) { return { got: p } }");
});

async function trigger(name: string, body: unknown = {}) {
  const res = await call("PUT", `${ns}/triggers/${name}`, { body });
  if (res.status !== 200) throw new Error(`trigger ${name}: ${res.text}`);
  return res.body;
}

async function rule(name: string, triggerName: string, action: string) {
  return call("PUT", `${ns}/rules/${name}`, { body: { trigger: `/_/${triggerName}`, action } });
}

describe("triggers", () => {
  it("creates, reads, lists and deletes triggers with OpenWhisk's shapes", async () => {
    const created = await trigger("t-basic", { parameters: [{ key: "a", value: 1 }] });
    expect(created).toEqual({
      namespace: "guest",
      name: "t-basic",
      version: "0.0.1",
      publish: false,
      parameters: [{ key: "a", value: 1 }],
      limits: {},
      annotations: [],
      updated: expect.any(Number),
    });
    const list = await call("GET", `${ns}/triggers`);
    const item = list.body.find((t: { name: string }) => t.name === "t-basic");
    expect(item).not.toHaveProperty("parameters");
    expect((await call("PUT", `${ns}/triggers/t-basic`, { body: {} })).status).toBe(409);
    const updated = await call("PUT", `${ns}/triggers/t-basic?overwrite=true`, { body: { annotations: [{ key: "x", value: 1 }] } });
    expect(updated.body).toMatchObject({ version: "0.0.2", parameters: [{ key: "a", value: 1 }] });
    expect((await call("DELETE", `${ns}/triggers/t-basic`)).status).toBe(200);
    expect((await call("GET", `${ns}/triggers/t-basic`)).status).toBe(404);
  });

  it("answers 204 and records nothing when no rule is active", async () => {
    await trigger("t-idle");
    const res = await call("POST", `${ns}/triggers/t-idle`, { body: { x: 1 } });
    expect(res.status).toBe(204);
    expect(res.text).toBe("");
  });

  it("answers 404 for firing a missing trigger and refuses an invalid feed name", async () => {
    expect((await call("POST", `${ns}/triggers/t-none`, { body: {} })).status).toBe(404);
    const bad = await call("PUT", `${ns}/triggers/t-badfeed`, { body: { annotations: [{ key: "feed", value: "" }] } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe("Feed name is not valid");
  });
});

describe("rules", () => {
  it("creates active rules whose status lives in the trigger", async () => {
    await trigger("t-rules");
    const created = await rule("r-one", "t-rules", "/_/record");
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      namespace: "guest",
      name: "r-one",
      status: "active",
      trigger: { path: "guest", name: "t-rules" },
      action: { path: "guest", name: "record" },
      version: "0.0.1",
    });
    const t = await call("GET", `${ns}/triggers/t-rules`);
    expect(t.body.rules).toEqual({ "guest/r-one": { action: { path: "guest", name: "record" }, status: "active" } });
    const list = await call("GET", `${ns}/rules`);
    expect(list.body.find((r: { name: string }) => r.name === "r-one")).not.toHaveProperty("status");
  });

  it("enables and disables rules", async () => {
    await trigger("t-toggle");
    await rule("r-toggle", "t-toggle", "/_/record");
    const off = await call("POST", `${ns}/rules/r-toggle`, { body: { status: "inactive" } });
    expect(off.status).toBe(200);
    expect((await call("GET", `${ns}/rules/r-toggle`)).body.status).toBe("inactive");
    expect((await call("POST", `${ns}/rules/r-toggle`, { body: { status: "inactive" } })).status).toBe(200);
    await call("POST", `${ns}/rules/r-toggle`, { body: { status: "active" } });
    expect((await call("GET", `${ns}/rules/r-toggle`)).body.status).toBe("active");
    const bad = await call("POST", `${ns}/rules/r-toggle`, { body: { status: "paused" } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain("paused is not a recognized rule state");
  });

  it("refuses rules to missing triggers or actions and across namespaces, storing nothing", async () => {
    await trigger("t-refs");
    const noTrigger = await rule("r-bad1", "nope", "/_/record");
    expect(noTrigger.status).toBe(400);
    expect(noTrigger.body.error).toBe("trigger /guest/nope does not exist");
    const noAction = await rule("r-bad2", "t-refs", "/_/nothing");
    expect(noAction.status).toBe(400);
    expect(noAction.body.error).toBe("action /guest/nothing does not exist");
    const relative = await call("PUT", `${ns}/rules/r-bad3`, { body: { trigger: "t-refs", action: "/_/record" } });
    expect(relative.status).toBe(400);
    const missing = await call("PUT", `${ns}/rules/r-bad4`, { body: { trigger: "/_/t-refs" } });
    expect(missing.body.error).toBe("rule requires a valid trigger and a valid action");
    const foreign = await call("PUT", `${ns}/rules/r-bad5`, { body: { trigger: "/_/t-refs", action: "/guest/record" }, auth: OTHER_KEY });
    expect(foreign.status).toBe(403);
    for (const name of ["r-bad1", "r-bad2", "r-bad3", "r-bad4"]) {
      expect((await call("GET", `${ns}/rules/${name}`)).status).toBe(404);
    }
    expect((await call("GET", `${ns}/triggers/t-refs`)).body.rules).toBeUndefined();
  });

  it("moves a rule to another trigger, keeping its status and unlinking the old trigger", async () => {
    await trigger("t-move-a");
    await trigger("t-move-b");
    await rule("r-move", "t-move-a", "/_/record");
    await call("POST", `${ns}/rules/r-move`, { body: { status: "inactive" } });
    const moved = await call("PUT", `${ns}/rules/r-move?overwrite=true`, { body: { trigger: "/_/t-move-b" } });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ status: "inactive", version: "0.0.2", trigger: { path: "guest", name: "t-move-b" } });
    expect((await call("GET", `${ns}/triggers/t-move-a`)).body.rules).toEqual({});
    expect((await call("GET", `${ns}/triggers/t-move-b`)).body.rules).toEqual({
      "guest/r-move": { action: { path: "guest", name: "record" }, status: "inactive" },
    });
  });

  it("deletes an active rule, answering it as inactive and unlinking it from the trigger", async () => {
    await trigger("t-del");
    await rule("r-del", "t-del", "/_/record");
    const deleted = await call("DELETE", `${ns}/rules/r-del`);
    expect(deleted.status).toBe(200);
    expect(deleted.body.status).toBe("inactive");
    expect((await call("GET", `${ns}/triggers/t-del`)).body.rules).toEqual({});
  });
});

describe("firing", () => {
  it("runs each active rule's action and records the trigger's activation", async () => {
    await trigger("t-fire", { parameters: [{ key: "from", value: "trigger" }, { key: "x", value: "trigger" }] });
    await rule("r-fire-on", "t-fire", "/_/record");
    await rule("r-fire-off", "t-fire", "/_/record");
    await call("POST", `${ns}/rules/r-fire-off`, { body: { status: "inactive" } });

    const res = await call("POST", `${ns}/triggers/t-fire`, { body: { x: "payload" } });
    expect(res.status).toBe(202);
    expect(res.headers.get("x-openwhisk-activation-id")).toBe(res.body.activationId);
    // Carried out before the answer: the trigger's record is there at once.
    expect((await call("GET", `${ns}/activations/${res.body.activationId}`)).status).toBe(200);
    const record = await waitForActivation(res.body.activationId);
    expect(record).toMatchObject({ name: "t-fire", namespace: "guest", annotations: [] });
    expect(record.response.result).toEqual({ x: "payload" });
    expect(record).not.toHaveProperty("end");
    const logs = record.logs.map((line: string) => JSON.parse(line));
    const on = logs.find((l: { rule: string }) => l.rule === "guest/r-fire-on");
    const off = logs.find((l: { rule: string }) => l.rule === "guest/r-fire-off");
    expect(on).toMatchObject({ statusCode: 0, success: true, action: "guest/record" });
    expect(off).toEqual({
      statusCode: 1,
      success: false,
      error: "Rule 'guest/r-fire-off' is inactive, action 'guest/record' was not activated.",
      rule: "guest/r-fire-off",
      action: "guest/record",
    });
    const action = await waitForActivation(on.activationId);
    expect(action.name).toBe("record");
    expect(action.cause).toBe(res.body.activationId);
    expect(action.response.result.got).toMatchObject({ from: "trigger", x: "payload" });
    expect(action.response.result.got.__ow_headers).toMatchObject({ "content-type": "application/json" });
    expect(action.response.result.got.__ow_headers).not.toHaveProperty("authorization");
  });

  it("sees its own trigger and rule changes at the next fire, though it keeps fired triggers (src/core/trigger-cache.ts)", async () => {
    await trigger("t-cached", { parameters: [{ key: "v", value: "first" }] });
    await rule("r-cached", "t-cached", "/_/record");
    const fire = async () => {
      const res = await call("POST", `${ns}/triggers/t-cached`, { body: {} });
      if (res.status === 204) return undefined;
      expect(res.status).toBe(202);
      // The rule's action gets the trigger's parameters as this fire found them.
      const [ruleLog] = (await waitForActivation(res.body.activationId)).logs.map((line: string) => JSON.parse(line));
      return { v: (await waitForActivation(ruleLog.activationId)).response.result.got.v };
    };
    expect(await fire()).toEqual({ v: "first" });

    // Kept now: the update must still reach the next fire.
    await trigger("t-cached?overwrite=true", { parameters: [{ key: "v", value: "second" }] });
    expect(await fire()).toEqual({ v: "second" });

    await call("POST", `${ns}/rules/r-cached`, { body: { status: "inactive" } });
    expect(await fire()).toBeUndefined();
    await call("POST", `${ns}/rules/r-cached`, { body: { status: "active" } });
    expect(await fire()).toEqual({ v: "second" });

    expect((await call("DELETE", `${ns}/rules/r-cached`)).status).toBe(200);
    expect(await fire()).toBeUndefined();
    await rule("r-cached", "t-cached", "/_/record");
    expect((await call("DELETE", `${ns}/triggers/t-cached`)).status).toBe(200);
    expect((await call("POST", `${ns}/triggers/t-cached`, { body: {} })).status).toBe(404);
  });

  it("logs a failed rule action as an application error without failing the fire", async () => {
    await createAction("short-lived", "function main() { return {} }");
    await trigger("t-gone");
    await rule("r-gone", "t-gone", "/_/short-lived");
    await call("DELETE", `${ns}/actions/short-lived`);
    const res = await call("POST", `${ns}/triggers/t-gone`, { body: {} });
    const record = await waitForActivation(res.body.activationId);
    expect(JSON.parse(record.logs[0])).toMatchObject({
      statusCode: 1,
      success: false,
      error: "The requested resource does not exist.",
    });
  });
});
