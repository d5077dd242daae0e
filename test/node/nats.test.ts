// The JetStream dispatcher and consumer against real NATS and PostgreSQL:
// bounded redelivery ending in a recorded whisk internal error,
// idempotence by activation id, and the consumer's bound on work in hand.
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildActivation, resultResponse } from "../../src/core/activation.js";
import { Messages } from "../../src/core/errors.js";
import { HttpInvokers } from "../../src/node/invoker-http-client.js";
import { applyMigrations } from "../../src/node/migrate.js";
import {
  activationStream,
  consumeActivations,
  dispatchWork,
  ensureActivationStream,
  GatheredPublisher,
  NatsDispatcher,
  type DeliveryPolicy,
  type QueueWork,
  type RunningConsumer,
} from "../../src/node/nats.js";
import { createPool, PostgresSql } from "../../src/node/postgres.js";
import type { DispatchMessage } from "../../src/ports/dispatcher.js";
import { SqlStore } from "../../src/store/sql-store.js";
import { postgresThrottle } from "../../src/node/postgres-throttle.js";
import { freePort } from "../e2e/server.js";
import { createTestDatabase, testServices, testStreamName } from "./services.js";

const services = await testServices();

const FAST: DeliveryPolicy = { attempts: 3, retryDelayMs: () => 100, ackWaitMs: 5_000, concurrency: 4 };

function invokeMessage(activationId: string): DispatchMessage {
  return {
    type: "invoke",
    request: {
      activationId,
      transactionId: "tx",
      action: { namespace: "guest", name: "hello" },
      identity: { subject: "guest", namespace: "guest", uuid: "u", authKey: "u:k" },
      params: {},
      receivedAt: Date.now(),
      apiHost: "http://127.0.0.1",
    },
  };
}

const newId = () => crypto.randomUUID().replaceAll("-", "");

describe.skipIf(!services)("NATS JetStream dispatch", () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let stream: ReturnType<typeof testStreamName>;
  let pool: pg.Pool;
  let nc: NatsConnection;
  let store: SqlStore;
  let consumer: RunningConsumer;
  let invokers: HttpInvokers;

  beforeAll(async () => {
    database = await createTestDatabase(services!);
    stream = testStreamName(services!);
    pool = createPool(database.url);
    await applyMigrations(pool);
    store = new SqlStore(new PostgresSql(pool));
    nc = await connect({ servers: services!.natsUrl });
    await ensureActivationStream(nc, activationStream(stream.name), FAST);
    // No invoker listens here: every attempt to run fails as with all invokers down.
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    invokers = new HttpInvokers({ urls: () => [nowhere], everyone: () => [nowhere] }, "no invoker takes it anyway");
    consumer = await consumeActivations(nc, activationStream(stream.name), dispatchWork({ store, invokers, dispatcher: new NatsDispatcher(nc, activationStream(stream.name)), throttle: postgresThrottle(pool, store) }), FAST);
  });

  afterAll(async () => {
    await consumer?.stop();
    await nc?.close();
    await pool?.end();
    await stream?.drop();
    await database?.drop();
  });

  async function pendingMessages(): Promise<number> {
    const info = await (await jetstreamManager(nc)).streams.info(stream.name);
    return info.state.messages;
  }

  async function recorded(activationId: string) {
    for (let i = 0; i < 100; i++) {
      const record = await store.getActivation("guest", activationId);
      if (record) return record;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`activation ${activationId} was never recorded`);
  }

  it("records a whisk internal error once a message has used up its deliveries", async () => {
    const activationId = newId();
    await new NatsDispatcher(nc, activationStream(stream.name)).dispatch(invokeMessage(activationId));
    const record = await recorded(activationId);
    expect(record.response).toEqual({
      status: "whisk internal error",
      statusCode: 3,
      success: false,
      result: { error: Messages.dispatchExhausted },
    });
    await expect.poll(pendingMessages).toBe(0);
  });

  it("acks a redelivered message whose activation is already recorded, without running it again", async () => {
    const activationId = newId();
    const done = buildActivation({
      activationId,
      namespace: "guest",
      subject: "guest",
      name: "hello",
      version: "0.0.1",
      path: "guest/hello",
      start: Date.now(),
      end: Date.now(),
      response: resultResponse({ ran: "once" }),
      logs: [],
    });
    await store.putActivation(done);
    await new NatsDispatcher(nc, activationStream(stream.name)).dispatch(invokeMessage(activationId));
    await expect.poll(pendingMessages).toBe(0);
    expect(await store.getActivation("guest", activationId)).toEqual(done);
  });

  it("works on as many messages at once as its concurrency allows, and no more", async () => {
    const paused = consumer;
    await paused.stop();
    let inside = 0;
    let most = 0;
    const handled: string[] = [];
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const work: QueueWork = {
      async handle(message) {
        most = Math.max(most, ++inside);
        await gate;
        inside--;
        if (message.type === "invoke") handled.push(message.request.activationId);
        return "done";
      },
      deadLetter: async () => undefined,
    };
    const held = await consumeActivations(nc, activationStream(stream.name), work, FAST);
    try {
      const dispatcher = new NatsDispatcher(nc, activationStream(stream.name));
      const ids = Array.from({ length: 10 }, newId);
      for (const id of ids) await dispatcher.dispatch(invokeMessage(id));
      await expect.poll(() => inside).toBe(FAST.concurrency);
      // The rest stay queued while every slot is busy.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(most).toBe(FAST.concurrency);
      expect(await pendingMessages()).toBe(10);
      open();
      await expect.poll(() => handled.length).toBe(10);
      expect(handled.sort()).toEqual(ids.sort());
      expect(most).toBe(FAST.concurrency);
      await expect.poll(pendingMessages).toBe(0);
    } finally {
      open();
      await held.stop();
      consumer = await consumeActivations(nc, activationStream(stream.name), dispatchWork({ store, invokers, dispatcher: new NatsDispatcher(nc, activationStream(stream.name)), throttle: postgresThrottle(pool, store) }), FAST);
    }
  });

  it("acks the messages it finishes while it stops before the stop ends, not after a gathering delay", async () => {
    await consumer.stop();
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let inside = 0;
    const work: QueueWork = {
      async handle() {
        inside++;
        await gate;
        return "done";
      },
      deadLetter: async () => undefined,
    };
    const held = await consumeActivations(nc, activationStream(stream.name), work, FAST);
    try {
      const dispatcher = new NatsDispatcher(nc, activationStream(stream.name));
      await Promise.all(Array.from({ length: FAST.concurrency }, () => dispatcher.dispatch(invokeMessage(newId()))));
      await expect.poll(() => inside).toBe(FAST.concurrency);
      const stopped = held.stop();
      open();
      await stopped;
      // One round trip after the stop: its acks were written before it, so the server has removed the messages.
      await nc.flush();
      expect(await pendingMessages()).toBe(0);
    } finally {
      open();
      consumer = await consumeActivations(nc, activationStream(stream.name), dispatchWork({ store, invokers, dispatcher: new NatsDispatcher(nc, activationStream(stream.name)), throttle: postgresThrottle(pool, store) }), FAST);
    }
  });

  it("publishes made in one turn go out together, each stored once and acknowledged on its own", async () => {
    // A subject no consumer reads, emptied afterwards.
    const subject = `${activationStream(stream.name).invokerPrefix}.nobody`;
    const publisher = new GatheredPublisher(nc);
    const ids = Array.from({ length: 5 }, newId);
    const acks = await Promise.all([...ids, ids[0]!].map((id) => publisher.publish(subject, JSON.stringify(invokeMessage(id)), { msgID: id })));
    expect(new Set(acks.slice(0, 5).map((ack) => ack.seq)).size).toBe(5);
    expect(acks.map((ack) => ack.duplicate)).toEqual([false, false, false, false, false, true]);
    const { purged } = await (await jetstreamManager(nc)).streams.purge(stream.name, { filter: subject });
    expect(purged).toBe(5);
  });

  it("stores a message published twice for one activation once", async () => {
    const paused = consumer;
    await paused.stop();
    try {
      const dispatcher = new NatsDispatcher(nc, activationStream(stream.name));
      const message = invokeMessage(newId());
      await dispatcher.dispatch(message);
      await dispatcher.dispatch(message);
      expect(await pendingMessages()).toBe(1);
    } finally {
      consumer = await consumeActivations(nc, activationStream(stream.name), dispatchWork({ store, invokers, dispatcher: new NatsDispatcher(nc, activationStream(stream.name)), throttle: postgresThrottle(pool, store) }), FAST);
    }
  });
});
