// NATS JetStream as the dispatcher of non-blocking activations (what Queues
// are on Cloudflare). A work-queue stream holds each accepted message until a
// controller acks it; the durable pull consumer is shared by all controller
// replicas, so a controller that dies mid-message loses nothing: after the
// ack wait the message goes to another. Failures are retried with growing
// delays a bounded number of times; the last delivery records a whisk
// internal error (handleDeadLetter) so the activation id always resolves.
// Delivery is at least once; handleDispatch skips ids already recorded.
import {
  AckPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JsMsg,
} from "@nats-io/jetstream";
import { nanos, type NatsConnection } from "@nats-io/transport-node";
import { handleDeadLetter, handleDispatch, type DispatchDeps } from "../activation/dispatch.js";
import type { Dispatcher, DispatchMessage } from "../ports/dispatcher.js";

const DURABLE = "dispatch";
const DUPLICATE_WINDOW_MS = 2 * 60_000;
/** How long a pull waits for a message before asking again (and noticing a stop). */
const PULL_EXPIRES_MS = 2_000;

export interface ActivationStream {
  stream: string;
  subject: string;
}

/** The stream and subject for a stream name (one per installation; tests use their own). */
export function activationStream(stream: string): ActivationStream {
  return { stream, subject: `${stream.toLowerCase()}.activations` };
}

export interface DeliveryPolicy {
  /** Deliveries that may run the activation; one more only records the dead letter. */
  attempts: number;
  /** Delay before delivery n+1 after delivery n failed. */
  retryDelayMs: (delivery: number) => number;
  /** A message not acked (nor reported as still in work) within this goes to another controller. */
  ackWaitMs: number;
  /** Activations one controller runs at once. */
  concurrency: number;
}

export const DEFAULT_DELIVERY: DeliveryPolicy = {
  attempts: 5,
  retryDelayMs: (delivery) => Math.min(60_000, 2_000 * 2 ** (delivery - 1)),
  // A controller killed while holding a message delays it by up to this.
  ackWaitMs: 10_000,
  concurrency: 32,
};

/** Creates the stream and the durable consumer, or brings their settings up to date. */
export async function ensureActivationStream(
  nc: NatsConnection,
  { stream, subject }: ActivationStream,
  policy: DeliveryPolicy = DEFAULT_DELIVERY,
): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const streamConfig = {
    name: stream,
    subjects: [subject],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
  };
  await jsm.streams.add(streamConfig).catch(() => jsm.streams.update(stream, streamConfig));
  const consumerConfig = {
    durable_name: DURABLE,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(policy.ackWaitMs),
    max_deliver: policy.attempts + 1,
    max_ack_pending: 1_000,
  };
  await jsm.consumers.add(stream, consumerConfig).catch(() => jsm.consumers.update(stream, DURABLE, consumerConfig));
}

export class NatsDispatcher implements Dispatcher {
  private readonly js: JetStreamClient;

  constructor(
    nc: NatsConnection,
    private readonly target: ActivationStream,
  ) {
    this.js = jetstream(nc);
  }

  /** Resolves once the stream has stored the message: the activation is accepted. */
  async dispatch(message: DispatchMessage): Promise<void> {
    // The activation id as message id: a publish repeated by a retry is stored once.
    const activationId = message.type === "invoke" ? message.request.activationId : message.fire.activationId;
    await this.js.publish(this.target.subject, JSON.stringify(message), { msgID: activationId });
  }
}

export interface RunningConsumer {
  /** Stops pulling and waits for the messages in hand. */
  stop(): Promise<void>;
}

/** What a consumer reports for the metrics. */
export interface DeliveryObserver {
  /** A message arrived that had been delivered before. */
  redelivered(): void;
}

/** Pulls dispatched messages and runs them, at most `policy.concurrency` at once. */
export async function consumeActivations(
  nc: NatsConnection,
  target: ActivationStream,
  deps: DispatchDeps,
  policy: DeliveryPolicy = DEFAULT_DELIVERY,
  observer?: DeliveryObserver,
): Promise<RunningConsumer> {
  const consumer = await jetstream(nc).consumers.get(target.stream, DURABLE);
  const inHand = new Set<Promise<void>>();
  let stopping = false;
  let freed: (() => void) | undefined;

  const loop = (async () => {
    while (!stopping) {
      if (inHand.size >= policy.concurrency) {
        await new Promise<void>((resolve) => (freed = resolve));
        continue;
      }
      let msg: JsMsg | null;
      try {
        msg = await consumer.next({ expires: PULL_EXPIRES_MS });
      } catch (err) {
        if (stopping) break;
        console.error("nats: pull failed:", (err as Error).message);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        continue;
      }
      if (!msg) continue;
      if (msg.info.deliveryCount > 1) observer?.redelivered();
      const work = settle(msg, deps, policy).finally(() => {
        inHand.delete(work);
        freed?.();
      });
      inHand.add(work);
    }
  })();

  return {
    async stop() {
      stopping = true;
      freed?.();
      await loop;
      await Promise.all(inHand);
    },
  };
}

async function settle(msg: JsMsg, deps: DispatchDeps, policy: DeliveryPolicy): Promise<void> {
  const delivery = msg.info.deliveryCount;
  // Long activations keep their message: tell the server it is still in work.
  const heartbeat = setInterval(() => msg.working(), policy.ackWaitMs / 3);
  try {
    let message: DispatchMessage;
    try {
      message = msg.json<DispatchMessage>();
    } catch {
      console.error(`nats: dropping a message that is not JSON (stream seq ${msg.seq})`);
      msg.term("malformed");
      return;
    }
    if (delivery <= policy.attempts && (await handleDispatch(message, deps)) === "done") {
      msg.ack();
    } else if (delivery >= policy.attempts) {
      await handleDeadLetter(message, deps.store, deps.concurrency);
      msg.ack();
    } else {
      msg.nak(policy.retryDelayMs(delivery));
    }
  } catch (err) {
    console.error(`nats: message ${msg.seq} failed on delivery ${delivery}:`, err);
    msg.nak(policy.retryDelayMs(delivery));
  } finally {
    clearInterval(heartbeat);
  }
}
