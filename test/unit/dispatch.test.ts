// Starting non-blocking activations and handling what the queue delivers
// (src/activation/start.ts, src/activation/dispatch.ts) on the fast tier's ports:
// what is queued, what runs, what is recorded when nothing can run, and
// which concurrent places are given back.
import { beforeEach, describe, expect, it, vi } from "vitest";
import { Messages, WhiskError } from "../../src/core/errors.js";
import { handleBatch, handleDeadLetter, handleDispatch, type DispatchDeps, type Disposition } from "../../src/activation/dispatch.js";
import { leasePlace, startActivation } from "../../src/activation/start.js";
import type { DispatchMessage } from "../../src/ports/dispatcher.js";
import type { InvokeRequest, Invokers } from "../../src/ports/invokers.js";
import { activationRecord, putAction, ref } from "../support/entities.js";
import { createTestPlatform, identityOf, invokeRequest, type TestPlatform } from "../support/platform.js";

let t: TestPlatform;
beforeEach(async () => {
  t = createTestPlatform();
  await putAction(t.store, "guest/work");
  t.isolates.define("/guest/work", (params) => ({ worked: params.job }));
});

const deps = (invokers: Invokers = t.platform.invokers): DispatchDeps => ({ ...t.dispatchDeps, invokers });

/** An admitted non-blocking invoke: it holds a place of its namespace. */
async function admitted(params: Record<string, unknown> = { job: 1 }): Promise<InvokeRequest> {
  return leasePlace(t.concurrency, invokeRequest(ref("guest/work"), params));
}

const failingInvokers = (err: Error): Invokers => ({
  invoke: () => Promise.reject(err),
  invokeWeb: () => Promise.reject(err),
  invalidate: async () => undefined,
  announce: async () => undefined,
});

describe("starting a non-blocking activation", () => {
  it("queues the request as it was admitted, lease included", async () => {
    const request = await admitted();
    await startActivation(t.platform, request);
    expect(t.queue.messages).toEqual([{ type: "invoke", request: { ...request, leased: true } }]);
    expect(t.concurrency.held("guest")).toBe(1);
  });

  it("answers 404 for an action that does not exist, queues nothing and gives the place back", async () => {
    const request = await leasePlace(t.concurrency, invokeRequest(ref("guest/nothing")));
    await expect(startActivation(t.platform, request)).rejects.toMatchObject({ status: 404 });
    expect(t.queue.messages).toEqual([]);
    expect(t.concurrency.held("guest")).toBe(0);
  });
});

describe("handling a dispatched invoke", () => {
  it("runs the activation, records it and frees its place", async () => {
    const request = await admitted({ job: "a" });
    expect(await handleDispatch({ type: "invoke", request }, deps())).toBe("done");
    const record = await t.store.getActivation("guest", request.activationId);
    expect(record?.response.result).toEqual({ worked: "a" });
    expect(t.concurrency.held("guest")).toBe(0);
  });

  it("does not run a redelivered activation that is already recorded, and frees the place it took again", async () => {
    const request = await admitted();
    const recorded = activationRecord({ activationId: request.activationId, namespace: "guest", name: "work", start: 1 });
    await t.store.putActivation(recorded);
    expect(await handleDispatch({ type: "invoke", request }, deps())).toBe("done");
    expect(t.isolates.runs).toEqual([]);
    expect(await t.store.getActivation("guest", request.activationId)).toEqual(recorded);
    expect(t.concurrency.held("guest")).toBe(0);
  });

  it("runs a first delivery without reading the store first: a new id has no record yet", async () => {
    const request = await admitted({ job: "b" });
    const reads = vi.spyOn(t.store, "getActivation");
    expect(await handleDispatch({ type: "invoke", request }, deps(), { attempts: 1 })).toBe("done");
    expect(reads).not.toHaveBeenCalled();
    reads.mockRestore();
    expect((await t.store.getActivation("guest", request.activationId))?.response.result).toEqual({ worked: "b" });
  });

  it("checks for a record before running a redelivery, a resent message, or one from a queue that does not count deliveries", async () => {
    const request = await admitted();
    await t.store.putActivation(activationRecord({ activationId: request.activationId, namespace: "guest", name: "work", start: 1 }));
    const deliveries: [DispatchMessage, { attempts?: number }][] = [
      [{ type: "invoke", request }, { attempts: 2 }],
      [{ type: "invoke", request, resent: true }, { attempts: 1 }],
      [{ type: "invoke", request }, {}],
    ];
    for (const [message, delivery] of deliveries) expect(await handleDispatch(message, deps(), delivery)).toBe("done");
    expect(t.isolates.runs).toEqual([]);
  });

  it("records an action deleted since it was queued as a whisk error, never dropping it", async () => {
    const request = await admitted();
    const entity = (await t.store.getEntity(ref("guest/work")))!;
    await t.store.deleteEntity(entity.ref, entity.rev!);
    expect(await handleDispatch({ type: "invoke", request }, deps())).toBe("done");
    const record = await t.store.getActivation("guest", request.activationId);
    expect(record?.response).toEqual({
      status: "whisk internal error",
      statusCode: 3,
      success: false,
      result: { error: Messages.actionRemovedWhileInvoking },
    });
    expect(t.concurrency.held("guest")).toBe(0);
  });

  it("leaves an activation to the queue's retry, place kept, when the invoker is busy or fails unexpectedly", async () => {
    const request = await admitted();
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    for (const err of [new WhiskError(503, Messages.systemOverloaded), new Error("connection reset")]) {
      expect(await handleDispatch({ type: "invoke", request }, deps(failingInvokers(err)))).toBe("retry");
    }
    expect(logged).toHaveBeenCalledTimes(2);
    logged.mockRestore();
    expect(await t.store.getActivation("guest", request.activationId)).toBeUndefined();
    expect(t.concurrency.held("guest")).toBe(1);
  });

  it("records a message that used up its retries, and frees its place", async () => {
    const request = await admitted();
    await handleDeadLetter({ type: "invoke", request }, t.store, t.concurrency);
    const record = await t.store.getActivation("guest", request.activationId);
    expect(record).toMatchObject({ name: "work", statusCode: 3, response: { result: { error: Messages.dispatchExhausted } } });
    expect(t.concurrency.held("guest")).toBe(0);
  });

  it("records a dead-lettered trigger fire under the trigger's name", async () => {
    const message: DispatchMessage = {
      type: "fire",
      fire: {
        activationId: "f".repeat(32),
        transactionId: "tx",
        trigger: ref("guest/tick"),
        triggerVersion: "0.0.1",
        triggerParams: [],
        rules: {},
        identity: identityOf("guest"),
        payload: { at: 1 },
        headers: {},
        receivedAt: 1,
        apiHost: "https://edgewhisk.test",
      },
    };
    await handleDeadLetter(message, t.store);
    expect(await t.store.getActivation("guest", "f".repeat(32))).toMatchObject({
      name: "tick",
      statusCode: 3,
      response: { result: { error: Messages.dispatchExhausted } },
    });
  });
});

describe("handling a delivered batch", () => {
  it("runs at most `limit` at once, keeps that many busy, and settles each message as it ends", async () => {
    let running = 0;
    let most = 0;
    const release: (() => void)[] = [];
    const pooled: Invokers = {
      ...t.platform.invokers,
      invoke: async (request) => {
        running++;
        most = Math.max(most, running);
        await new Promise<void>((resolve) => release.push(resolve));
        running--;
        return t.platform.invokers.invoke(request);
      },
    };
    const messages: DispatchMessage[] = [];
    for (let n = 0; n < 10; n++) messages.push({ type: "invoke", request: await admitted({ job: n }) });
    const settled: [number, Disposition][] = [];
    const done = handleBatch(messages.map((body) => ({ body, attempts: 1 })), deps(pooled), (at, disposition) => settled.push([at, disposition]), 3);
    await vi.waitFor(() => expect(release.length).toBe(3));
    // The second message ends first: it is settled at once and the fourth starts in its place.
    release[1]!();
    await vi.waitFor(() => expect(settled).toEqual([[1, "done"]]));
    await vi.waitFor(() => expect(release.length).toBe(4));
    expect(running).toBe(3);
    while (settled.length < messages.length) {
      release.forEach((resolve) => resolve());
      await new Promise((r) => setTimeout(r, 0));
    }
    await done;
    expect(most).toBe(3);
    expect(settled.map(([at]) => at).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(settled.every(([, disposition]) => disposition === "done")).toBe(true);
    for (const { request } of messages as { request: InvokeRequest }[]) {
      expect((await t.store.getActivation("guest", request.activationId))?.response.result).toEqual({ worked: request.params.job });
    }
  });
});
