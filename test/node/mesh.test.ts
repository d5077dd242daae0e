// Invoker membership, direct dispatch and adoption against real NATS
// JetStream and PostgreSQL, with in-process invokers whose work records who
// ran each activation (the processes themselves: mesh-cluster.test.ts):
// joins and leaves seen within seconds, an activation consumed and recorded
// by its home invoker, and the queue of an invoker that dies recorded once
// by the others.
import { jetstream } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildActivation, resultResponse } from "../../src/core/activation.js";
import { ADOPT_AFTER_MS } from "../../src/core/invoker-membership.js";
import { qualifiedName } from "../../src/core/names.js";
import { rendezvousRank } from "../../src/core/rendezvous.js";
import { adoptOrphanedQueues } from "../../src/node/adoption.js";
import { invokerConfig } from "../../src/node/config.js";
import { joinMesh, type InvokerMesh } from "../../src/node/invoker-mesh.js";
import { invokerSubject, MembershipDispatcher } from "../../src/node/invoker-queue.js";
import { membershipBucket, MembershipView } from "../../src/node/membership.js";
import { applyMigrations } from "../../src/node/migrate.js";
import { activationStream, type DeliveryPolicy } from "../../src/node/nats.js";
import { createPool, PostgresSql } from "../../src/node/postgres.js";
import type { DispatchMessage } from "../../src/ports/dispatcher.js";
import { SqlStore } from "../../src/store/sql-store.js";
import { createTestDatabase, testServices, testStreamName } from "./services.js";
import { until } from "../support/until.js";

const services = await testServices();

const POLICY: DeliveryPolicy = { attempts: 3, retryDelayMs: () => 200, ackWaitMs: 3_000, concurrency: 4 };

function invokeMessage(action: string): DispatchMessage {
  return {
    type: "invoke",
    request: {
      activationId: crypto.randomUUID().replaceAll("-", ""),
      transactionId: "tx",
      action: { namespace: "guest", name: action },
      identity: { subject: "guest", namespace: "guest", uuid: "u", authKey: "u:k" },
      params: {},
      receivedAt: Date.now(),
      apiHost: "http://127.0.0.1",
    },
  };
}

describe("invoker configuration", () => {
  const env = { DATABASE_URL: "postgres://p@db/x", NATS_URL: "nats://nats:4222", INVOKER_SECRET: "s".repeat(32), CONTROLLER_URL: "http://controller" };

  it("names the invoker and its URL after the host (a StatefulSet pod) unless told otherwise", () => {
    expect(invokerConfig(env, "invoker-2")).toMatchObject({ id: "invoker-2", advertiseUrl: "http://invoker-2:8080", concurrency: 32 });
    expect(invokerConfig({ ...env, PORT: "9000" }, "box.example.com")).toMatchObject({ id: "box", advertiseUrl: "http://box.example.com:9000" });
    const told = invokerConfig({ ...env, INVOKER_ID: "a_1", INVOKER_ADVERTISE_URL: "http://10.0.0.5:8080/", INVOKER_CONCURRENCY: "8" }, "x");
    expect(told).toMatchObject({ id: "a_1", advertiseUrl: "http://10.0.0.5:8080", concurrency: 8 });
  });

  it("refuses an id that cannot name a NATS subject and a concurrency that is not a count", () => {
    expect(() => invokerConfig({ ...env, INVOKER_ID: "a.b" }, "x")).toThrow(/INVOKER_ID/);
    expect(() => invokerConfig({ ...env, INVOKER_CONCURRENCY: "0" }, "x")).toThrow(/INVOKER_CONCURRENCY/);
    expect(() => invokerConfig({ ...env, NATS_URL: "" }, "x")).toThrow(/NATS_URL/);
  });
});

describe.skipIf(!services)("invokers on NATS: membership, their own queues, adoption", () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let stream: ReturnType<typeof testStreamName>;
  let pool: pg.Pool;
  let store: SqlStore;
  let controllerNats: NatsConnection;
  let view: MembershipView;
  let dispatcher: MembershipDispatcher;
  /** Who ran each activation, as many times as it ran. */
  const ranBy = new Map<string, string[]>();
  const running: { mesh: InvokerMesh; nc: NatsConnection }[] = [];

  beforeAll(async () => {
    database = await createTestDatabase(services!);
    stream = testStreamName(services!);
    pool = createPool(database.url);
    await applyMigrations(pool);
    store = new SqlStore(new PostgresSql(pool));
    controllerNats = await connect({ servers: services!.natsUrl });
    // The first to come makes the stream and the bucket; here, an invoker.
    await startInvoker("boot").then(kill);
    view = await MembershipView.watch(controllerNats, membershipBucket(stream.name));
    dispatcher = new MembershipDispatcher(controllerNats, activationStream(stream.name), view);
  });

  afterAll(async () => {
    for (const { mesh, nc } of running) {
      await mesh.leave();
      if (!nc.isClosed()) await nc.close();
    }
    view?.stop();
    await controllerNats?.close();
    await pool?.end();
    await stream?.drop();
    await database?.drop();
  });

  /** An invoker that records each activation with its own id; `hang` ones take work and never finish it. */
  async function startInvoker(id: string, options: { hang?: boolean; concurrency?: number } = {}) {
    const nc = await connect({ servers: services!.natsUrl });
    const mesh = await joinMesh(
      nc,
      { stream: stream.name, id, advertiseUrl: `http://${id}.invoker:8080`, concurrency: options.concurrency ?? 16 },
      POLICY,
    );
    const state = { inFlight: 0, draining: false, took: 0 };
    await mesh.start(
      {
        async handle(message) {
          if (message.type !== "invoke") return "done";
          state.took++;
          if (options.hang) return new Promise(() => undefined);
          const { request } = message;
          ranBy.set(request.activationId, [...(ranBy.get(request.activationId) ?? []), id]);
          const now = Date.now();
          await store.putActivation(
            buildActivation({
              activationId: request.activationId,
              namespace: "guest",
              subject: "guest",
              name: request.action.name,
              version: "0.0.1",
              path: `guest/${request.action.name}`,
              start: now,
              end: now,
              response: resultResponse({ ranBy: id }),
              logs: [],
            }),
          );
          return "done";
        },
        deadLetter: async () => undefined,
      },
      () => state,
    );
    const invoker = { id, mesh, nc, state };
    running.push(invoker);
    return invoker;
  }

  /** Dies as SIGKILL leaves it: no last heartbeat, no ack for what it holds. */
  async function kill(invoker: { nc: NatsConnection }) {
    await invoker.nc.close();
  }

  const live = () => view.order("any").map((m) => m.id).sort();

  it("sees an invoker join within seconds, and stops routing to it when it drains or falls silent", async () => {
    const a = await startInvoker("m-a");
    const b = await startInvoker("m-b");
    const joined = Date.now();
    await until(() => (live().includes("m-a") && live().includes("m-b") ? true : undefined), 3_000, "both invokers to be seen");
    expect(Date.now() - joined).toBeLessThan(3_000);

    a.state.draining = true;
    await until(() => (live().includes("m-a") ? undefined : true), 2_500, "the draining invoker to be passed over");
    await kill(b);
    const killed = Date.now();
    await until(() => (live().includes("m-b") ? undefined : true), 6_000, "the silent invoker to be passed over");
    expect(Date.now() - killed).toBeGreaterThan(2_000);
    // A view started now learns of the members from the bucket, the gone one included.
    const late = await MembershipView.watch(controllerNats, membershipBucket(stream.name));
    try {
      expect(late.members().map((m) => m.id)).toEqual(expect.arrayContaining(["m-a", "m-b"]));
      expect(late.order("any").map((m) => m.id)).not.toContain("m-a");
    } finally {
      late.stop();
    }
  }, 20_000);

  it("publishes an activation to its home invoker's queue, where that invoker runs and records it", async () => {
    const ids = ["m-c", "m-d", "m-e"];
    for (const id of ids) await startInvoker(id);
    await until(() => (ids.every((id) => live().includes(id)) ? true : undefined), 3_000, "the invokers to be seen");
    const messages = Array.from({ length: 12 }, (_, i) => invokeMessage(`home-${i}`));
    for (const message of messages) await dispatcher.dispatch(message);
    for (const message of messages) {
      if (message.type !== "invoke") continue;
      const { activationId, action } = message.request;
      const record = await until(() => store.getActivation("guest", activationId), 10_000, `activation ${activationId}`);
      const home = rendezvousRank(ids, qualifiedName(action))[0];
      expect(record.response.result).toEqual({ ranBy: home });
      expect(ranBy.get(activationId)).toEqual([home]);
    }
    // The twelve spread: more than one invoker was home to some.
    expect(new Set(messages.map((m) => ranBy.get(m.type === "invoke" ? m.request.activationId : "")?.[0])).size).toBeGreaterThan(1);
  }, 20_000);

  it("records once, at another invoker, everything queued for an invoker that died, in hand or not yet taken", async () => {
    const doomed = await startInvoker("m-doomed", { hang: true, concurrency: 1 });
    await until(() => (live().includes("m-doomed") ? true : undefined), 3_000, "the invoker to be seen");
    const others = live().filter((id) => id !== "m-doomed");
    // Actions whose home is the doomed invoker.
    const names = Array.from({ length: 200 }, (_, i) => `doomed-${i}`).filter(
      (name) => rendezvousRank([...others, "m-doomed"], qualifiedName({ namespace: "guest", name }))[0] === "m-doomed",
    );
    const messages = names.slice(0, 6).map((name) => invokeMessage(name));
    expect(messages).toHaveLength(6);
    // With one slot, the first is taken (and hangs there), the next two spill to the others...
    for (const message of messages.slice(0, 3)) await dispatcher.dispatch(message);
    await until(() => (doomed.state.took > 0 ? true : undefined), 5_000, "the doomed invoker to take one");
    // ... and three wait in its queue, as when it was full before its heartbeat said so.
    const js = jetstream(controllerNats);
    for (const message of messages.slice(3)) {
      const { activationId } = (message as Extract<DispatchMessage, { type: "invoke" }>).request;
      await js.publish(invokerSubject(activationStream(stream.name), "m-doomed"), JSON.stringify(message), { msgID: activationId });
    }
    await kill(doomed);

    const adoption = adoptOrphanedQueues(controllerNats, activationStream(stream.name), view, POLICY);
    try {
      for (const message of messages) {
        if (message.type !== "invoke") continue;
        const { activationId } = message.request;
        await until(() => store.getActivation("guest", activationId), ADOPT_AFTER_MS + 15_000, `activation ${activationId}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      for (const message of messages) {
        const runs = ranBy.get(message.type === "invoke" ? message.request.activationId : "");
        expect(runs).toHaveLength(1);
        expect(others).toContain(runs![0]);
      }
      expect(doomed.state.took).toBe(1);
    } finally {
      await adoption.stop();
    }
  }, 40_000);
});
