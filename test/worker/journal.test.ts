// The dispatch journal inside workerd, with real D1, Queues, the queue
// consumer and the invoker Durable Objects: accepted work whose queue
// message was lost (journaled by a server run that died, never queued) is
// queued again by the sweep and recorded once; recorded work is only
// forgotten. DISPATCH_JOURNAL is off in tests (it is `npm start`'s), so the
// journaled dispatcher and the sweep are built here as the Worker builds them.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { ruleActivationId } from "../../src/activation/fire.js";
import { JournaledDispatcher, MAX_ATTEMPTS, sweepJournal } from "../../src/activation/journal.js";
import { journalSweepDeps, journalSweeper } from "../../src/cloudflare/journal-sweeper-do.js";
import { QueueDispatcher } from "../../src/cloudflare/queue.js";
import type { Dispatcher, DispatchMessage } from "../../src/ports/dispatcher.js";
import type { InvokeRequest } from "../../src/ports/invokers.js";
import { call, createAction, GUEST_KEY, seedNamespaces, store, waitForActivation } from "./helpers.js";

const identity = { namespace: "guest", subject: "guest", uuid: GUEST_KEY.split(":")[0], authKey: GUEST_KEY };
const newId = () => crypto.randomUUID().replaceAll("-", "");

function invokeMessage(action: string, params: Record<string, unknown> = {}): DispatchMessage & { request: InvokeRequest } {
  return {
    type: "invoke",
    request: {
      activationId: newId(),
      transactionId: "t",
      action: { namespace: "guest", name: action },
      identity,
      params,
      receivedAt: Date.now(),
      apiHost: "http://edgewhisk.test",
    },
  };
}

/** Journals a message as a server run that died before its queue delivered it. */
async function lostByDeadRun(message: DispatchMessage, run = "dead-run"): Promise<void> {
  const nowhere: Dispatcher = { dispatch: async () => {} };
  await new JournaledDispatcher(store(), nowhere, run).dispatch(message);
}

async function journalRow(activationId: string) {
  return env.DB.prepare("SELECT boot, attempts FROM dispatch_journal WHERE activation_id = ?").bind(activationId).first();
}

async function countRuns(action: string): Promise<number> {
  return (await store().listActivations("guest", { name: action }, { limit: 200, skip: 0 })).length;
}

beforeAll(async () => {
  await seedNamespaces();
  await createAction("counted", "function main(p) { return { got: p.n } }");
});

describe("the dispatch journal", () => {
  it("queues accepted work journaled, and the sweep forgets it once it is recorded", async () => {
    const message = invokeMessage("counted", { n: 1 });
    await new JournaledDispatcher(store(), new QueueDispatcher(env.ACTIVATIONS), "alive").dispatch(message);
    expect(await journalRow(message.request.activationId)).toMatchObject({ boot: "alive", attempts: 1 });
    const record = await waitForActivation(message.request.activationId);
    expect(record.response.result).toEqual({ got: 1 });
    const report = await sweepJournal(journalSweepDeps(env, "alive"));
    expect(report.pruned).toBeGreaterThanOrEqual(1);
    expect(await journalRow(message.request.activationId)).toBeNull();
  });

  it("re-queues an activation whose message a dead run lost, and it is recorded once", async () => {
    const before = await countRuns("counted");
    const message = invokeMessage("counted", { n: 2 });
    await lostByDeadRun(message);
    expect(await store().getActivation("guest", message.request.activationId)).toBeUndefined();

    const report = await sweepJournal(journalSweepDeps(env, "alive"));
    expect(report.requeued).toBeGreaterThanOrEqual(1);
    expect(await journalRow(message.request.activationId)).toMatchObject({ boot: "alive", attempts: 2 });
    const record = await waitForActivation(message.request.activationId);
    expect(record.response.result).toEqual({ got: 2 });

    // Sweeping again finds it recorded: forgotten, not run again.
    const again = await sweepJournal(journalSweepDeps(env, "next-run"));
    expect(again.requeued).toBe(0);
    expect(await journalRow(message.request.activationId)).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await countRuns("counted")).toBe(before + 1);
  });

  it("forgets an entry whose activation is recorded without queueing anything", async () => {
    const res = await call("POST", "/api/v1/namespaces/_/actions/counted?blocking=true", { body: { n: 3 } });
    expect(res.status).toBe(200);
    await waitForActivation(res.body.activationId); // in D1, past the invoker's write-behind outbox
    const recorded = invokeMessage("counted");
    recorded.request.activationId = res.body.activationId;
    await lostByDeadRun(recorded);
    const sent: DispatchMessage[] = [];
    const deps = { ...journalSweepDeps(env, "alive"), queue: { dispatch: async (m: DispatchMessage) => void sent.push(m) } };
    await sweepJournal(deps);
    expect(sent.filter((m) => m.type === "invoke" && m.request.activationId === res.body.activationId)).toEqual([]);
    expect(await journalRow(res.body.activationId)).toBeNull();
    expect((await store().getActivation("guest", res.body.activationId))?.response.result).toEqual({ got: 3 });
  });

  it("re-queues a lost trigger fire: the trigger and its rule's activation are recorded", async () => {
    await call("PUT", "/api/v1/namespaces/_/triggers/journal-t", { body: {} });
    const rule = await call("PUT", "/api/v1/namespaces/_/rules/journal-r", {
      body: { trigger: "/_/journal-t", action: "/_/counted" },
    });
    expect(rule.status).toBe(200);
    const fireId = newId();
    await lostByDeadRun({
      type: "fire",
      fire: {
        activationId: fireId,
        transactionId: "t",
        trigger: { namespace: "guest", name: "journal-t" },
        triggerVersion: "0.0.1",
        triggerParams: [],
        rules: { "guest/journal-r": { action: { path: "guest", name: "counted" }, status: "active" } },
        identity,
        payload: { n: 4 },
        headers: {},
        receivedAt: Date.now(),
        apiHost: "http://edgewhisk.test",
      },
    });
    await sweepJournal(journalSweepDeps(env, "alive"));
    const trigger = await waitForActivation(fireId);
    expect(trigger.name).toBe("journal-t");
    const ruleRecord = await waitForActivation(await ruleActivationId(fireId, "guest/journal-r"));
    expect(ruleRecord.response.result).toEqual({ got: 4 });
    expect(ruleRecord.cause).toBe(fireId);
  });

  it(`records a whisk internal error for work lost ${MAX_ATTEMPTS} times`, async () => {
    const message = invokeMessage("counted");
    for (let run = 1; run <= MAX_ATTEMPTS; run++) await lostByDeadRun(message, `dead-run-${run}`);
    await sweepJournal(journalSweepDeps(env, "alive"));
    const record = await waitForActivation(message.request.activationId);
    expect(record.response).toMatchObject({ status: "whisk internal error", success: false });
    expect(await journalRow(message.request.activationId)).toBeNull();
  });

  it("sweeps on the sweeper object's alarm where the journal is on, and re-arms it", async () => {
    const { runInDurableObject, runDurableObjectAlarm } = await import("cloudflare:test");
    const stub = journalSweeper(env);
    await stub.start();
    await runInDurableObject(stub, async (instance) => {
      // What `npm start` sets with --var.
      (instance as unknown as { env: { DISPATCH_JOURNAL?: string } }).env.DISPATCH_JOURNAL = "alarm-run";
    });
    const message = invokeMessage("counted", { n: 5 });
    await lostByDeadRun(message);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await waitForActivation(message.request.activationId)).response.result).toEqual({ got: 5 });
    await runInDurableObject(stub, async (_instance, state) => {
      expect(await state.storage.getAlarm()).toBeGreaterThan(Date.now());
    });
  });
});

describe("the queue dispatcher", () => {
  it("sends the messages of concurrent dispatches together in one sendBatch, and every one runs once", async () => {
    // The real queue, with its calls counted.
    const calls = { send: 0, sendBatch: 0 };
    const queue = env.ACTIVATIONS;
    const counted = {
      send: (...args: Parameters<typeof queue.send>) => (calls.send++, queue.send(...args)),
      sendBatch: (...args: Parameters<typeof queue.sendBatch>) => (calls.sendBatch++, queue.sendBatch(...args)),
    } as unknown as typeof queue;
    const dispatcher = new QueueDispatcher(counted);
    const messages = Array.from({ length: 8 }, (_, n) => invokeMessage("counted", { n: 100 + n }));

    await Promise.all(messages.map((message) => dispatcher.dispatch(message)));

    expect(calls.sendBatch).toBeGreaterThanOrEqual(1);
    expect(calls.send + calls.sendBatch).toBeLessThan(messages.length);
    const records = await Promise.all(messages.map((message) => waitForActivation(message.request.activationId)));
    expect(records.map((record) => record.response.result)).toEqual(messages.map((message) => ({ got: message.request.params.n })));
  });
});
