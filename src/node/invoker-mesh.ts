// An invoker's place among the others: it announces itself (id, URL, free
// slots) in the membership bucket, watches the others (sequence components
// may run on another invoker), and consumes its own queue (invoker-queue.ts).
// Draining reverses that: it announces that it drains, so nothing new is
// routed to it, stops pulling, finishes what it has in hand and hands the
// rest of its queue to live invokers before it leaves.
import type { NatsConnection } from "@nats-io/transport-node";
import { handOver } from "./adoption.js";
import type { InvokerConfig } from "./config.js";
import { ensureInvokerConsumer, invokerDurable, MembershipDispatcher } from "./invoker-queue.js";
import { announce, ensureMembershipBucket, membershipBucket, MembershipView, type Announcer } from "./membership.js";
import {
  activationStream,
  consumeQueue,
  DEFAULT_DELIVERY,
  ensureActivationStream,
  type DeliveryPolicy,
  type QueueWork,
  type RunningConsumer,
} from "./nats.js";

export interface InvokerLoad {
  /** Activations running here now (from the queue and over HTTP). */
  inFlight: number;
  draining: boolean;
}

export interface InvokerMesh {
  membership: MembershipView;
  /** Publishes activations (a sequence's or a fire's) to their invokers. */
  dispatcher: MembershipDispatcher;
  /** Starts consuming this invoker's queue with `work` and announcing `load()`. */
  start(work: QueueWork, load: () => InvokerLoad): Promise<void>;
  /** Stops consuming (waiting for the activations in hand) and hands over the rest of the queue; call once `load()` says draining. */
  drain(): Promise<void>;
  /** Announces a last time and stops watching. */
  leave(): Promise<void>;
}

type MeshConfig = Pick<InvokerConfig, "stream" | "id" | "advertiseUrl" | "concurrency">;

export async function joinMesh(nc: NatsConnection, config: MeshConfig, policy: DeliveryPolicy = DEFAULT_DELIVERY): Promise<InvokerMesh> {
  const target = activationStream(config.stream);
  const bucket = membershipBucket(config.stream);
  // Invokers may start before any controller: the stream, the bucket and the queue are made by whoever comes first.
  await ensureActivationStream(nc, target, policy);
  await ensureMembershipBucket(nc, bucket);
  await ensureInvokerConsumer(nc, target, config.id, policy);
  const membership = await MembershipView.watch(nc, bucket);
  const dispatcher = new MembershipDispatcher(nc, target, membership);
  const consuming = { ...policy, concurrency: config.concurrency };
  let consumer: RunningConsumer | undefined;
  let announcer: Announcer | undefined;

  return {
    membership,
    dispatcher,
    async start(work, load) {
      consumer = await consumeQueue(nc, target.stream, invokerDurable(config.id), work, consuming);
      announcer = announce(nc, bucket, () => {
        const { inFlight, draining } = load();
        return {
          id: config.id,
          url: config.advertiseUrl,
          capacity: config.concurrency,
          free: Math.max(0, config.concurrency - inFlight),
          draining,
          at: Date.now(),
        };
      });
    },
    async drain() {
      await announcer?.now();
      await consumer?.stop();
      const moved = await handOver(nc, target, config.id, membership, policy).catch((err) => {
        console.error("invoker: could not hand over its queue:", (err as Error).message);
        return 0;
      });
      if (moved) console.log(`invoker ${config.id}: handed ${moved} queued activation(s) to other invokers`);
    },
    async leave() {
      await announcer?.stop();
      membership.stop();
    },
  };
}
