// NATS JetStream as the dispatcher of non-blocking activations (what Queues
// are on Cloudflare). A work-queue stream holds each accepted message until
// it is acked. Trigger fires (and activations accepted while no invoker was
// live) go to a subject whose durable pull consumer all controller replicas
// share; each invoker consumes its own subject (invoker-queue.ts), so an
// activation goes from the controller to the invoker that runs it. Whoever
// dies mid-message loses nothing: after the ack wait the message is
// delivered again. Failures are retried with growing delays a bounded number
// of times; the last delivery records a whisk internal error
// (handleDeadLetter) so the activation id always resolves. Delivery is at
// least once; handleDispatch skips ids already recorded.
import {
  AckPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamPublishOptions,
  type JsMsg,
  type PubAck,
} from "@nats-io/jetstream";
import { headers, nanos, type NatsConnection } from "@nats-io/transport-node";
import { handleDeadLetter, handleDispatch, type Disposition, type DispatchDeps } from "../activation/dispatch.js";
import type { Dispatcher, DispatchMessage } from "../ports/dispatcher.js";
import { atTurnEnd } from "./turn-end.js";

const DURABLE = "dispatch";
/**
 * On a message published again by someone who took it from another queue
 * (adoption.ts): the deliveries it had there, which count against its
 * attempts as their own.
 */
export const PRIOR_DELIVERIES = "Edgewhisk-Deliveries";
const DUPLICATE_WINDOW_MS = 2 * 60_000;
/** How long a pull waits for a message before asking again (and noticing a stop). */
const PULL_EXPIRES_MS = 2_000;

export interface ActivationStream {
  stream: string;
  /** The controllers' subject. */
  subject: string;
  /** Invoker `id` consumes `<invokerPrefix>.<id>`. */
  invokerPrefix: string;
}

/** The stream and subjects for a stream name (one per installation; tests use their own). */
export function activationStream(stream: string): ActivationStream {
  const prefix = stream.toLowerCase();
  return { stream, subject: `${prefix}.activations`, invokerPrefix: `${prefix}.invoker` };
}

/** Headers saying how many deliveries a message had before it was published again. */
export function priorDeliveries(count: number) {
  const h = headers();
  h.set(PRIOR_DELIVERIES, String(count));
  return h;
}

export interface DeliveryPolicy {
  /** Deliveries that may run the activation; one more only records the dead letter. */
  attempts: number;
  /** Delay before delivery n+1 after delivery n failed. */
  retryDelayMs: (delivery: number) => number;
  /** A message not acked (nor reported as still in work) within this goes to another controller. */
  ackWaitMs: number;
  /** Messages one consumer has in hand at once (CONTROLLER_CONCURRENCY, INVOKER_CONCURRENCY). */
  concurrency: number;
}

export const DEFAULT_DELIVERY: DeliveryPolicy = {
  attempts: 5,
  retryDelayMs: (delivery) => Math.min(60_000, 2_000 * 2 ** (delivery - 1)),
  // A controller killed while holding a message delays it by up to this.
  ackWaitMs: 10_000,
  concurrency: 32,
};

/** Creates the stream and the controllers' durable consumer, or brings their settings up to date. */
export async function ensureActivationStream(
  nc: NatsConnection,
  { stream, subject, invokerPrefix }: ActivationStream,
  policy: DeliveryPolicy = DEFAULT_DELIVERY,
): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const streamConfig = {
    name: stream,
    subjects: [subject, `${invokerPrefix}.*`],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
  };
  await jsm.streams.add(streamConfig).catch(() => jsm.streams.update(stream, streamConfig));
  await ensureConsumer(nc, stream, DURABLE, subject, policy);
}

/**
 * A durable consumer of one subject. A work-queue stream admits several
 * consumers only with filters that do not overlap; the controllers' consumer
 * of a stream made before invokers had subjects has none, and a server that
 * will not add a filter to it gets it made again (its messages stay).
 */
export async function ensureConsumer(nc: NatsConnection, stream: string, durable: string, subject: string, policy: DeliveryPolicy): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const config = {
    durable_name: durable,
    filter_subject: subject,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(policy.ackWaitMs),
    max_deliver: policy.attempts + 1,
    max_ack_pending: 1_000,
  };
  await jsm.consumers
    .add(stream, config)
    .catch(() => jsm.consumers.update(stream, durable, config))
    .catch(async () => {
      await jsm.consumers.delete(stream, durable);
      await jsm.consumers.add(stream, config);
    });
}

/** What places a message on the stream: a JetStreamClient, or a GatheredPublisher. */
export interface Publisher {
  publish(subject: string, payload: string, options: Partial<JetStreamPublishOptions>): Promise<PubAck>;
}

/**
 * JetStream publishes made in one turn of the event loop, sent together
 * with the turn's other NATS messages (atTurnEnd). Each publish still
 * resolves with its own stored-acknowledgement.
 */
export class GatheredPublisher implements Publisher {
  private readonly js: JetStreamClient;

  constructor(nc: NatsConnection) {
    this.js = jetstream(nc);
  }

  publish(subject: string, payload: string, options: Partial<JetStreamPublishOptions>): Promise<PubAck> {
    return new Promise<PubAck>((resolve, reject) =>
      atTurnEnd(() => {
        try {
          this.js.publish(subject, payload, options).then(resolve, reject);
        } catch (err) {
          reject(err);
        }
      }),
    );
  }
}

export class NatsDispatcher implements Dispatcher {
  private readonly publisher: GatheredPublisher;

  constructor(
    nc: NatsConnection,
    private readonly target: ActivationStream,
  ) {
    this.publisher = new GatheredPublisher(nc);
  }

  /** Resolves once the stream has stored the message: the activation is accepted. */
  async dispatch(message: DispatchMessage): Promise<void> {
    // The activation id as message id: a publish repeated by a retry is stored once.
    const activationId = message.type === "invoke" ? message.request.activationId : message.fire.activationId;
    await this.publisher.publish(this.target.subject, JSON.stringify(message), { msgID: activationId });
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


/** What a consumer does with the messages of its subject. */
export interface QueueWork {
  /**
   * "done" acks the message, "retry" has it delivered again later.
   * `delivery` counts its deliveries, those before an adoption included:
   * JetStream counts every redelivery of a consumer's message, so a 1 is a
   * first delivery (activation/dispatch.ts then skips the look for a record).
   */
  handle(message: DispatchMessage, delivery: number): Promise<Disposition>;
  /** The message used up its deliveries. */
  deadLetter(message: DispatchMessage): Promise<void>;
}

/** Running each message here (handleDispatch), as an invoker does. */
export function dispatchWork(deps: DispatchDeps): QueueWork {
  return {
    handle: (message, delivery) => handleDispatch(message, deps, { attempts: delivery }),
    deadLetter: (message) => handleDeadLetter(message, deps.store, deps.concurrency),
  };
}

/** Pulls the controllers' subject (fires, and activations waiting for an invoker). */
export function consumeActivations(
  nc: NatsConnection,
  target: ActivationStream,
  work: QueueWork,
  policy: DeliveryPolicy = DEFAULT_DELIVERY,
  observer?: DeliveryObserver,
): Promise<RunningConsumer> {
  return consumeQueue(nc, target.stream, DURABLE, work, policy, observer);
}

/** Pulls one consumer keeps waiting at the server at once (JetStream lets a consumer have 512, shared by its replicas). */
const MAX_PULLS = 4;

/**
 * Pulls a durable consumer's messages and settles them, at most
 * `policy.concurrency` at once. A pull asks for as many messages as there
 * are free slots, reserved for it until it ends, and each message is worked
 * on as it arrives: a message is taken only when there is room to work on it
 * (nothing waits unheard in a buffer past its ack wait), and a busy queue
 * costs one pull per batch instead of one per message, several of them in
 * flight at once (one pull of one message at a time capped a queue at one
 * message per round trip to the server).
 */
export async function consumeQueue(
  nc: NatsConnection,
  stream: string,
  durable: string,
  work: QueueWork,
  policy: DeliveryPolicy,
  observer?: DeliveryObserver,
): Promise<RunningConsumer> {
  const consumer = await jetstream(nc).consumers.get(stream, durable);
  const concurrency = Math.max(1, policy.concurrency);
  const acks = new AckGather();
  const inHand = new Set<Promise<void>>();
  const pulls = new Set<Promise<void>>();
  /** Slots held for messages that pulls in flight may still bring. */
  let reserved = 0;
  let stopping = false;
  let wake: (() => void) | undefined;
  const changed = () => {
    const waiting = wake;
    wake = undefined;
    waiting?.();
  };

  const take = (msg: JsMsg) => {
    // Delivered before here, or on the queue it was adopted from (adoption.ts).
    if (msg.info.deliveryCount > 1 || msg.headers?.has(PRIOR_DELIVERIES)) observer?.redelivered();
    const settling = settle(msg, work, policy, acks).finally(() => {
      inHand.delete(settling);
      changed();
    });
    inHand.add(settling);
  };

  const pull = async (batch: number) => {
    let left = batch;
    try {
      const messages = await consumer.fetch({ max_messages: batch, expires: PULL_EXPIRES_MS });
      for await (const msg of messages) {
        left--;
        reserved--;
        take(msg);
      }
    } catch (err) {
      if (!stopping) {
        console.error("nats: pull failed:", (err as Error).message);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    } finally {
      reserved -= left;
      changed();
    }
  };

  const loop = (async () => {
    while (!stopping) {
      const free = concurrency - inHand.size - reserved;
      // A busy consumer pulls for a quarter of its slots at a time, not for each one that frees: a pull is a subscription and a request to the server.
      const least = inHand.size + reserved === 0 ? 1 : Math.max(1, Math.floor(concurrency / 4));
      if (free < least || pulls.size >= MAX_PULLS) {
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      reserved += free;
      const pulling = pull(free).finally(() => pulls.delete(pulling));
      pulls.add(pulling);
    }
  })();

  return {
    async stop() {
      stopping = true;
      changed();
      await loop;
      await Promise.all(pulls);
      await Promise.all(inHand);
      acks.flush();
    },
  };
}

/** How long a settled message waits for others to be acked with it. */
const ACK_GATHER_MS = 10;

/**
 * Acks sent together, every ACK_GATHER_MS rather than every turn (nobody
 * waits for an ack; see turn-end.ts for what a write each cost). A message
 * acked 10 ms late is far inside its ack wait; a process that dies before
 * has it delivered again, as it would a moment earlier (handleDispatch
 * finds its record).
 */
class AckGather {
  private pending: JsMsg[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  add(msg: JsMsg): void {
    this.pending.push(msg);
    this.timer ??= setTimeout(() => this.flush(), ACK_GATHER_MS);
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const acking = this.pending;
    this.pending = [];
    try {
      for (const msg of acking) msg.ack();
    } catch (err) {
      // The connection closed first: the messages are delivered again (and found recorded).
      console.error(`nats: ${acking.length} ack(s) not sent:`, (err as Error).message);
    }
  }
}

async function settle(msg: JsMsg, work: QueueWork, policy: DeliveryPolicy, acks: AckGather): Promise<void> {
  const delivery = Number(msg.headers?.get(PRIOR_DELIVERIES) || 0) + msg.info.deliveryCount;
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
    if (delivery <= policy.attempts && (await work.handle(message, delivery)) === "done") {
      acks.add(msg);
    } else if (delivery >= policy.attempts) {
      await work.deadLetter(message);
      acks.add(msg);
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
