// Trigger fires (src/activation/fire.ts) on the fast tier's ports: carried
// out at once by the controller (fireTrigger, the API's path) or accepted
// and carried out from the queue (acceptFire, an alarm's path), as one
// activation per active rule, and recorded as the trigger's activation.
import { beforeEach, describe, expect, it, vi } from "vitest";
import { getAnnotation } from "../../src/core/entities.js";
import { Messages } from "../../src/core/errors.js";
import { handleDispatch } from "../../src/activation/dispatch.js";
import { acceptFire, fireTrigger, ruleActivationId } from "../../src/activation/fire.js";
import { JournaledDispatcher, sweepJournal } from "../../src/activation/journal.js";
import type { Dispatcher, DispatchMessage } from "../../src/ports/dispatcher.js";
import type { InvokeRequest } from "../../src/ports/invokers.js";
import { putAction, putEntity, ref, triggerDoc } from "../support/entities.js";
import { API_HOST, createTestPlatform, identityOf, type TestPlatform } from "../support/platform.js";

let t: TestPlatform;
beforeEach(async () => {
  t = createTestPlatform();
  for (const name of ["log", "mail"]) {
    await putAction(t.store, `guest/${name}`);
    t.isolates.define(`/guest/${name}`, (params) => ({ by: name, ...params }));
  }
});

async function putTrigger(rules: Parameters<typeof triggerDoc>[1], parameters = [{ key: "source", value: "trigger" }]) {
  const trigger = ref("guest/tick");
  await putEntity(t.store, { collection: "triggers", ref: trigger, doc: triggerDoc(trigger, rules, parameters) });
  return trigger;
}

const fire = (payload: Record<string, unknown> = { at: 1 }, trigger = ref("guest/tick")) =>
  acceptFire(t.platform, {
    identity: identityOf("guest"),
    trigger,
    payload,
    headers: { "x-from": "test" },
    apiHost: API_HOST,
    transactionId: "tx",
  });

const invokes = (messages: DispatchMessage[]): InvokeRequest[] =>
  messages.flatMap((message) => (message.type === "invoke" ? [message.request] : []));

describe("accepting a fire", () => {
  it("queues nothing and answers no id when no rule is active", async () => {
    await putTrigger({ "guest/off": { action: "guest/log", status: "inactive" } });
    expect(await fire()).toBeUndefined();
    expect(t.queue.dispatched).toEqual([]);
  });

  it("answers 404 for no trigger and 409 for an entity that is not one", async () => {
    await expect(fire()).rejects.toMatchObject({ status: 404 });
    await expect(fire({}, ref("guest/log"))).rejects.toMatchObject({ status: 409, message: Messages.conformance });
  });

  it("queues one fire carrying the trigger as it is now", async () => {
    await putTrigger({ "guest/to-log": { action: "guest/log" } });
    const id = await fire({ at: 2 });
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(t.queue.messages).toHaveLength(1);
    expect(t.queue.messages[0]).toMatchObject({
      type: "fire",
      fire: {
        activationId: id,
        trigger: { namespace: "guest", name: "tick" },
        triggerVersion: "0.0.1",
        triggerParams: [{ key: "source", value: "trigger" }],
        rules: { "guest/to-log": { action: { path: "guest", name: "log" }, status: "active" } },
        payload: { at: 2 },
        headers: { "x-from": "test" },
      },
    });
  });
});

const fireAtOnce = (platform = t.platform, payload: Record<string, unknown> = { at: 1 }) =>
  fireTrigger(platform, {
    identity: identityOf("guest"),
    trigger: ref("guest/tick"),
    payload,
    headers: {},
    apiHost: API_HOST,
    transactionId: "tx",
  });

describe("firing at once (the API)", () => {
  it("queues the rule activations and writes the trigger's record before it answers, with no fire message", async () => {
    await putTrigger({ "guest/to-log": { action: "guest/log" }, "guest/to-mail": { action: "guest/mail" } });
    const fireId = (await fireAtOnce(t.platform, { at: 5 }))!;
    const expectedIds = [await ruleActivationId(fireId, "guest/to-log"), await ruleActivationId(fireId, "guest/to-mail")];
    expect(t.queue.messages.map((m) => m.type)).toEqual(["invoke", "invoke"]);
    expect(t.queue.messages.map((m) => m.resent)).toEqual([undefined, undefined]);
    expect(invokes(t.queue.messages).map((r) => [r.activationId, r.cause, r.leased])).toEqual([
      [expectedIds[0], fireId, true],
      [expectedIds[1], fireId, true],
    ]);
    expect(await outcomesOf(fireId)).toEqual([
      ["guest/to-log", 0, true, undefined],
      ["guest/to-mail", 0, true, undefined],
    ]);
    expect(await t.drain()).toEqual(["done", "done"]);
    expect((await t.store.getActivation("guest", expectedIds[1]))?.cause).toBe(fireId);
    expect(t.concurrency.held("guest")).toBe(0);
  });

  it("answers no id and queues nothing when no rule is active", async () => {
    await putTrigger({ "guest/off": { action: "guest/log", status: "inactive" } });
    expect(await fireAtOnce()).toBeUndefined();
    expect(t.queue.dispatched).toEqual([]);
  });

  it("queues the fire, marked resent, when its record cannot be written; its consumer finishes it and the rule runs once", async () => {
    await putTrigger({ "guest/to-log": { action: "guest/log" } });
    const failingRecord = { ...t.platform, store: Object.create(t.store, { putActivation: { value: async () => Promise.reject(new Error("D1 down")) } }) };
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const fireId = (await fireAtOnce(failingRecord))!;
    logged.mockRestore();
    expect(t.queue.messages.map((m) => [m.type, m.resent])).toEqual([
      ["invoke", undefined],
      ["fire", true],
    ]);
    expect(await t.drain()).toEqual(["done", "done", "done"]);
    expect(await outcomesOf(fireId)).toEqual([["guest/to-log", 0, true, undefined]]);
    expect(t.isolates.runs).toHaveLength(1);
    expect(t.concurrency.held("guest")).toBe(0);
  });

  it("logs the rules past the namespace's concurrent limit as refused, taking places in the trigger's order", async () => {
    await t.store.putNamespaceLimits("guest", { concurrentInvocations: 1 });
    await putTrigger({ "guest/a-log": { action: "guest/log" }, "guest/b-mail": { action: "guest/mail" } });
    const fireId = (await fireAtOnce())!;
    expect(await outcomesOf(fireId)).toEqual([
      ["guest/a-log", 0, true, undefined],
      ["guest/b-mail", 1, false, Messages.tooManyConcurrentRequests(1, 1)],
    ]);
    expect(invokes(t.queue.messages).map((request) => request.action.name)).toEqual(["log"]);
  });
});

describe("carrying out a fire", () => {
  it("starts one activation per active rule, skips inactive ones and logs each rule in the trigger's record", async () => {
    await putTrigger({
      "guest/to-log": { action: "guest/log" },
      "guest/to-mail": { action: "guest/mail" },
      "guest/paused": { action: "guest/mail", status: "inactive" },
    });
    const fireId = (await fire({ at: 3, source: "payload wins" }))!;
    expect(await t.drain()).toEqual(["done", "done", "done"]);

    const started = invokes(t.queue.dispatched);
    const expectedIds = [await ruleActivationId(fireId, "guest/to-log"), await ruleActivationId(fireId, "guest/to-mail")];
    expect(started.map((request) => request.activationId)).toEqual(expectedIds);
    expect(started.map((request) => [request.action.name, request.cause, request.leased])).toEqual([
      ["log", fireId, true],
      ["mail", fireId, true],
    ]);
    // Trigger parameters < request headers < fire payload.
    expect(started[0].params).toEqual({ source: "payload wins", __ow_headers: { "x-from": "test" }, at: 3 });

    const trigger = await t.store.getActivation("guest", fireId);
    expect(trigger?.response.result).toEqual({ at: 3, source: "payload wins" });
    expect(trigger?.logs.map((line) => JSON.parse(line))).toEqual([
      { statusCode: 0, success: true, activationId: expectedIds[0], rule: "guest/to-log", action: "guest/log" },
      { statusCode: 0, success: true, activationId: expectedIds[1], rule: "guest/to-mail", action: "guest/mail" },
      {
        statusCode: 1,
        success: false,
        error: Messages.triggerWithInactiveRule("guest/paused", "guest/mail"),
        rule: "guest/paused",
        action: "guest/mail",
      },
    ]);

    const ran = await t.store.getActivation("guest", expectedIds[1]);
    expect(ran?.response.result).toMatchObject({ by: "mail", at: 3 });
    expect(ran?.cause).toBe(fireId);
    expect(getAnnotation(ran!.annotations, "path")).toBe("guest/mail");
    expect(t.throttle.admitted).toEqual([
      { namespace: "guest", kind: "invoke" },
      { namespace: "guest", kind: "invoke" },
    ]);
    expect(t.concurrency.held("guest")).toBe(0);
  });

  it("does nothing again for a redelivered fire that is already recorded", async () => {
    await putTrigger({ "guest/to-log": { action: "guest/log" } });
    await fire();
    const [message] = t.queue.messages;
    await t.drain();
    const runs = t.isolates.runs.length;
    t.queue.messages.push(message);
    await t.drain();
    expect(t.isolates.runs).toHaveLength(runs);
    expect(invokes(t.queue.dispatched)).toHaveLength(1);
  });

  it("sends its rule activations unmarked on a first delivery, and marked resent when the fire may be a repeat", async () => {
    await putTrigger({ "guest/to-log": { action: "guest/log" } });
    await fire();
    const message = t.queue.messages.shift()!;
    expect(await handleDispatch(message, t.dispatchDeps, { attempts: 1 })).toBe("done");
    expect(t.queue.messages.map((m) => m.resent)).toEqual([undefined]);
    t.queue.messages.length = 0;
    for (const [delivered, delivery] of [[message, { attempts: 2 }], [{ ...message, resent: true as const }, { attempts: 1 }]] as const) {
      await t.store.deleteActivationsBefore(Number.MAX_SAFE_INTEGER); // the trigger's record: the fire is carried out again
      expect(await handleDispatch(delivered, t.dispatchDeps, delivery)).toBe("done");
      expect(t.queue.messages.map((m) => m.resent)).toEqual([true]);
      t.queue.messages.length = 0;
    }
  });

  it("carries out a first delivery without looking for the fire's record", async () => {
    await putTrigger({ "guest/to-log": { action: "guest/log" } });
    const fireId = (await fire())!;
    const message = t.queue.messages.shift()!;
    const reads = vi.spyOn(t.store, "getActivation");
    expect(await handleDispatch(message, t.dispatchDeps, { attempts: 1 })).toBe("done");
    expect(reads).not.toHaveBeenCalled();
    reads.mockRestore();
    expect(await t.store.getActivation("guest", fireId)).toMatchObject({ name: "tick" });
  });

  it("does not run a rule activation twice when its fire is delivered again before the fire's record was written", async () => {
    await putTrigger({ "guest/to-log": { action: "guest/log" } });
    await fire();
    const message = t.queue.messages.shift()!;
    // The first delivery queues the rule's activation, then fails before recording the trigger's activation.
    const failingRecord = { ...t.dispatchDeps, store: Object.create(t.store, { putActivation: { value: async () => Promise.reject(new Error("D1 down")) } }) };
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    expect(await handleDispatch(message, failingRecord, { attempts: 1 })).toBe("retry");
    logged.mockRestore();
    const first = t.queue.messages.shift()!;
    expect(await handleDispatch(first, t.dispatchDeps, { attempts: 1 })).toBe("done");
    expect(t.isolates.runs).toHaveLength(1);
    // The queue retries the fire: the same rule activation goes out again, marked, and does not run again.
    expect(await handleDispatch(message, t.dispatchDeps, { attempts: 2 })).toBe("done");
    const again = t.queue.messages.shift()!;
    expect(again).toMatchObject({ resent: true, request: { activationId: (first as { request: InvokeRequest }).request.activationId } });
    expect(await handleDispatch(again, t.dispatchDeps, { attempts: 1 })).toBe("done");
    expect(t.isolates.runs).toHaveLength(1);
  });

  it("logs a rule whose action was deleted, and starts the others", async () => {
    await putTrigger({ "guest/a-gone": { action: "guest/deleted" }, "guest/b-log": { action: "guest/log" } });
    const fireId = (await fire())!;
    expect(await handleDispatch(t.queue.messages.shift()!, t.dispatchDeps)).toBe("done");
    expect(await outcomesOf(fireId)).toEqual([
      ["guest/a-gone", 1, false, Messages.resourceDoesNotExist],
      ["guest/b-log", 0, true, undefined],
    ]);
    expect(invokes(t.queue.messages).map((request) => request.action.name)).toEqual(["log"]);
    // The refused rule gave its place back; the started one holds its own.
    expect(t.concurrency.held("guest")).toBe(1);
  });

  it("logs the rules past the namespace's concurrent limit as refused", async () => {
    await t.store.putNamespaceLimits("guest", { concurrentInvocations: 1 });
    await putTrigger({ "guest/a-log": { action: "guest/log" }, "guest/b-mail": { action: "guest/mail" } });
    const fireId = (await fire())!;
    await handleDispatch(t.queue.messages.shift()!, t.dispatchDeps);
    expect(await outcomesOf(fireId)).toEqual([
      ["guest/a-log", 0, true, undefined],
      ["guest/b-mail", 1, false, Messages.tooManyConcurrentRequests(1, 1)],
    ]);
    expect(invokes(t.queue.messages).map((request) => request.action.name)).toEqual(["log"]);
  });

  it("logs the rules the namespace's rate limit refuses", async () => {
    await putTrigger({ "guest/a-log": { action: "guest/log" } });
    t.throttle.refusing.add("guest");
    const fireId = (await fire())!;
    await handleDispatch(t.queue.messages.shift()!, t.dispatchDeps);
    expect(await outcomesOf(fireId)).toEqual([["guest/a-log", 1, false, Messages.tooManyRequests(1, 0)]]);
    expect(t.queue.messages).toEqual([]);
    expect(t.concurrency.held("guest")).toBe(0);
  });
});

describe("firing at once where accepted work is journaled (npm start)", () => {
  /** The platform with its queue behind the dispatch journal, as `npm start` wires it. */
  const journaled = (queue: Dispatcher = t.queue) => {
    const dispatcher = new JournaledDispatcher(t.store, queue, "this-run");
    return { platform: { ...t.platform, dispatcher }, deps: { ...t.dispatchDeps, dispatcher } };
  };
  const journal = async () =>
    (await t.store.listJournal({ otherThanBoot: "other-run", dispatchedBefore: Date.now() + 1, limit: 100 })).map((entry) => entry.activationId);

  it("journals the rule activations and writes the trigger's record in one store write, then queues them", async () => {
    await putTrigger({ "guest/to-log": { action: "guest/log" }, "guest/to-mail": { action: "guest/mail" }, "guest/gone": { action: "guest/nothing" } });
    const writes = { together: vi.spyOn(t.store, "journalWithRecord"), journal: vi.spyOn(t.store, "journalDispatch"), record: vi.spyOn(t.store, "putActivation") };
    const fireId = (await fireAtOnce(journaled().platform))!;
    const ids = [await ruleActivationId(fireId, "guest/to-log"), await ruleActivationId(fireId, "guest/to-mail")];
    expect([writes.together.mock.calls.length, writes.journal.mock.calls.length, writes.record.mock.calls.length]).toEqual([1, 0, 0]);
    expect((await journal()).sort()).toEqual([...ids].sort());
    expect(invokes(t.queue.messages).map((request) => [request.activationId, request.leased])).toEqual([
      [ids[0], true],
      [ids[1], true],
    ]);
    expect(t.queue.messages.map((m) => m.resent)).toEqual([undefined, undefined]);
    expect(await outcomesOf(fireId)).toEqual([
      ["guest/to-log", 0, true, undefined],
      ["guest/to-mail", 0, true, undefined],
      ["guest/gone", 1, false, Messages.resourceDoesNotExist],
    ]);
    expect(await t.drain()).toEqual(["done", "done"]);
    expect(await t.store.pruneJournal()).toBe(2);
    expect(t.concurrency.held("guest")).toBe(0);
  });

  it("leaves a rule activation the queue refused after the write to the journal sweep, which runs it once", async () => {
    await putTrigger({ "guest/to-log": { action: "guest/log" } });
    const refusing: Dispatcher = { dispatch: () => Promise.reject(new Error("queue down")) };
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const fireId = (await fireAtOnce(journaled(refusing).platform))!;
    logged.mockRestore();
    const id = await ruleActivationId(fireId, "guest/to-log");
    expect(await outcomesOf(fireId)).toEqual([["guest/to-log", 0, true, undefined]]);
    expect(t.queue.dispatched).toEqual([]);
    expect(await journal()).toEqual([id]);
    // This run's entry waits out its grace; a later run (or the same past it) re-queues it, marked resent.
    expect(await sweepJournal({ store: t.store, queue: t.queue, boot: "next-run" })).toMatchObject({ requeued: 1 });
    expect(t.queue.messages.map((m) => m.resent)).toEqual([true]);
    expect(await t.drain()).toEqual(["done"]);
    expect(t.isolates.runs).toHaveLength(1);
    expect((await t.store.getActivation("guest", id))?.cause).toBe(fireId);
    expect(t.concurrency.held("guest")).toBe(0);
  });

  it("writes nothing when the write fails, queues the fire marked resent, and its consumer finishes it once", async () => {
    await putTrigger({ "guest/to-log": { action: "guest/log" } });
    vi.spyOn(t.store, "journalWithRecord").mockRejectedValueOnce(new Error("D1 down"));
    const { platform, deps } = journaled();
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const fireId = (await fireAtOnce(platform))!;
    logged.mockRestore();
    expect(t.queue.messages.map((m) => [m.type, m.resent])).toEqual([["fire", true]]);
    expect(t.concurrency.held("guest")).toBe(0);
    expect(await handleDispatch(t.queue.messages.shift()!, deps)).toBe("done");
    expect(t.queue.messages.map((m) => [m.type, m.resent])).toEqual([["invoke", true]]);
    expect(await t.drain()).toEqual(["done"]);
    expect(await outcomesOf(fireId)).toEqual([["guest/to-log", 0, true, undefined]]);
    expect(t.isolates.runs).toHaveLength(1);
    expect(t.concurrency.held("guest")).toBe(0);
  });
});

/** Each rule's outcome as the trigger's record logs it: rule, status code, success, error. */
async function outcomesOf(fireId: string) {
  const record = await t.store.getActivation("guest", fireId);
  return record!.logs.map((line) => JSON.parse(line)).map((o) => [o.rule, o.statusCode, o.success, o.error]);
}
