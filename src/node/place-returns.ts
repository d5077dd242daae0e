// The ends of activations that hold lent places (PlaceReturns in
// src/core/concurrency.ts) as plain NATS messages every controller and
// invoker hears; the process whose limiter lent a place takes it back. A
// queued activation then costs its namespace's lease rows in PostgreSQL
// nothing, where it cost a transaction under the namespace's lock to take
// and a delete to give back. Not JetStream: a return nobody hears (its
// lender gone, a reconnect) leaves the place to expire with its lease, as
// the places of a lender that crashed do.
import type { NatsConnection } from "@nats-io/transport-node";
import type { PlaceReturns } from "../core/concurrency.js";
import type { ActivationStream } from "./nats.js";

/** Outside the stream's subjects: returns are not kept. */
export function placeReturnsSubject(target: ActivationStream): string {
  return `${target.stream.toLowerCase()}.places.returned`;
}

interface ReturnMessage {
  namespace: string;
  activationIds: string[];
}

export function natsPlaceReturns(nc: NatsConnection, target: ActivationStream): PlaceReturns {
  const subject = placeReturnsSubject(target);
  return {
    send: async (namespace, activationIds) => {
      const message: ReturnMessage = { namespace, activationIds: [...activationIds] };
      nc.publish(subject, JSON.stringify(message));
    },
  };
}

function isReturnMessage(value: unknown): value is ReturnMessage {
  const message = value as ReturnMessage;
  return (
    typeof message?.namespace === "string" &&
    Array.isArray(message.activationIds) &&
    message.activationIds.every((id) => typeof id === "string")
  );
}

/** Hands the returns every process sends to `lender` until stopped. */
export function listenForReturns(
  nc: NatsConnection,
  target: ActivationStream,
  lender: { returned(namespace: string, activationIds: readonly string[]): void },
): { stop(): void } {
  const subscription = nc.subscribe(placeReturnsSubject(target), {
    callback: (err, msg) => {
      if (err) return;
      let message: unknown;
      try {
        message = msg.json();
      } catch {
        message = undefined;
      }
      if (!isReturnMessage(message)) {
        console.error("place returns: dropping a message that is not one");
        return;
      }
      lender.returned(message.namespace, message.activationIds);
    },
  });
  return { stop: () => subscription.unsubscribe() };
}
