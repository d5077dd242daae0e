// Work queued for an invoker that is gone is handed to live ones, so nothing
// accepted is lost when an invoker dies: every controller looks every few
// seconds for invoker subjects holding messages whose invoker has been
// silent past ADOPT_AFTER_MS (src/core/invoker-membership.ts), pulls them
// through that invoker's durable consumer (what the dead invoker had in hand
// comes again once its ack wait passes) and publishes each to a live
// invoker before acking it. A draining invoker hands over what it has not
// started the same way before it exits. Two controllers adopting at once
// each get different messages; one that dies between publishing and acking
// leaves a message that is published again under the same message id, which
// the stream drops as a duplicate, and the invoker skips ids already
// recorded in any case.
import { jetstream, jetstreamManager, type JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { orphanedInvokers } from "../core/invoker-membership.js";
import type { DispatchMessage } from "../ports/dispatcher.js";
import { ensureInvokerConsumer, invokerDurable, placeActivation } from "./invoker-queue.js";
import type { MembershipView } from "./membership.js";
import { PRIOR_DELIVERIES, type ActivationStream, type DeliveryPolicy } from "./nats.js";

const ADOPT_EVERY_MS = 2_000;
const BATCH = 100;
/** How long a pull waits for what a dead invoker had in hand (it comes back after its ack wait). */
const PULL_EXPIRES_MS = 1_000;

/** Moves the messages queued for invoker `from` to live invokers; how many were moved. */
export async function handOver(
  nc: NatsConnection,
  target: ActivationStream,
  from: string,
  membership: MembershipView,
  policy: DeliveryPolicy,
): Promise<number> {
  await ensureInvokerConsumer(nc, target, from, policy);
  const js = jetstream(nc);
  const consumer = await js.consumers.get(target.stream, invokerDurable(from));
  let moved = 0;
  for (;;) {
    let batch = 0;
    let stuck = false;
    for await (const msg of await consumer.fetch({ max_messages: BATCH, expires: PULL_EXPIRES_MS })) {
      batch++;
      if (stuck) {
        msg.nak();
        continue;
      }
      const outcome = await forward(msg, target, from, membership, js);
      if (outcome === "moved") moved++;
      else if (outcome === "no invoker") stuck = true;
    }
    if (batch === 0 || stuck) return moved;
  }
}

async function forward(
  msg: JsMsg,
  target: ActivationStream,
  from: string,
  membership: MembershipView,
  js: ReturnType<typeof jetstream>,
): Promise<"moved" | "dropped" | "no invoker"> {
  let message: DispatchMessage;
  try {
    message = msg.json<DispatchMessage>();
  } catch {
    msg.term("malformed");
    return "dropped";
  }
  if (message.type !== "invoke") {
    // Only activations are queued for invokers; anything else is not theirs to run.
    msg.term("not an activation");
    return "dropped";
  }
  // Deliveries to the gone invoker were attempts to run it; this one (to us) is not.
  const prior = Number(msg.headers?.get(PRIOR_DELIVERIES) || 0) + msg.info.deliveryCount - 1;
  const placed = await placeActivation(js, target, membership, message.request, msg.string(), {
    msgID: `${message.request.activationId}:${from}:${msg.seq}`,
    prior,
    avoid: from,
  });
  if (!placed) {
    msg.nak(ADOPT_EVERY_MS);
    return "no invoker";
  }
  msg.ack();
  return "moved";
}

export interface RunningAdoption {
  stop(): Promise<void>;
}

/** Adopts the queues of gone invokers every ADOPT_EVERY_MS, until stopped. */
export function adoptOrphanedQueues(
  nc: NatsConnection,
  target: ActivationStream,
  membership: MembershipView,
  policy: DeliveryPolicy,
  now: () => number = Date.now,
): RunningAdoption {
  let stopping = false;
  let pause: { timer: NodeJS.Timeout; resolve: () => void } | undefined;
  const sweep = async () => {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(target.stream, { subjects_filter: `${target.invokerPrefix}.*` });
    const queued = Object.entries(info.state.subjects ?? {})
      .filter(([, count]) => count > 0)
      .map(([subject]) => subject.slice(target.invokerPrefix.length + 1));
    for (const id of orphanedInvokers(queued, membership.members(), now(), membership.since)) {
      if (stopping) return;
      const moved = await handOver(nc, target, id, membership, policy);
      if (moved) console.log(`adopted ${moved} activation(s) queued for invoker ${id}, which is gone`);
    }
  };
  const loop = (async () => {
    while (!stopping) {
      await sweep().catch((err) => console.error("adoption sweep failed:", (err as Error).message));
      if (!stopping) await new Promise<void>((resolve) => (pause = { timer: setTimeout(resolve, ADOPT_EVERY_MS), resolve }));
    }
  })();
  return {
    async stop() {
      stopping = true;
      if (pause) {
        clearTimeout(pause.timer);
        pause.resolve();
      }
      await loop;
    },
  };
}
