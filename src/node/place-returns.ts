// The ends of activations that hold lent places (PlaceReturns in
// src/core/concurrency.ts) as plain NATS messages every controller and
// invoker hears; the process whose limiter lent a place takes it back. A
// queued activation then costs its namespace's lease rows in PostgreSQL
// nothing, where it cost a transaction under the namespace's lock to take
// and a delete to give back. A process that stops hands the places it lent
// to activations still queued to a live one, which takes them back instead.
// Not JetStream: a return nobody hears (its lender crashed, a reconnect)
// leaves the place to expire with its lease, as the places of a limiter
// that crashed do. The returns of one turn of the event loop go out
// together, one message per namespace, with the turn's other NATS messages
// (turn-end.ts): a busy invoker ends several activations a turn.
import type { NatsConnection } from "@nats-io/transport-node";
import type { ConcurrencyLimiter, PlaceInUse, PlaceReturns } from "../core/concurrency.js";
import type { ActivationStream } from "./nats.js";
import { atTurnEnd } from "./turn-end.js";

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
  /** Returns sent in this turn of the event loop, by namespace; published together once its I/O callbacks have run. */
  let gathered: { byNamespace: Map<string, string[]>; published: Promise<void> } | undefined;
  return {
    send: (namespace, activationIds) => {
      if (!gathered) {
        const byNamespace = new Map<string, string[]>();
        const published = new Promise<void>((resolve, reject) =>
          atTurnEnd(() => {
            gathered = undefined;
            try {
              for (const [ns, ids] of byNamespace) nc.publish(subject, JSON.stringify({ namespace: ns, activationIds: ids } satisfies ReturnMessage));
              resolve();
            } catch (err) {
              reject(err);
            }
          }),
        );
        gathered = { byNamespace, published };
      }
      const ids = gathered.byNamespace.get(namespace);
      if (ids) ids.push(...activationIds);
      else gathered.byNamespace.set(namespace, [...activationIds]);
      return gathered.published;
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

function isPlaceInUse(value: unknown): value is PlaceInUse {
  const place = value as PlaceInUse;
  return (
    typeof place?.namespace === "string" &&
    typeof place.id === "string" &&
    typeof place.expiresAt === "number" &&
    typeof place.activationId === "string"
  );
}

function parse(data: { json(): unknown }): unknown {
  try {
    return data.json();
  } catch {
    return undefined;
  }
}

/** Where a process that stops hands its places in use to one live process (a queue group: one answers). */
export function placeAdoptionSubject(target: ActivationStream): string {
  return `${target.stream.toLowerCase()}.places.adopt`;
}

const ADOPTERS = "adopters";
/** How long a process that stops waits for another to take its places in use; past it they expire. */
const ADOPTION_TIMEOUT_MS = 5_000;

type Lender = Pick<ConcurrencyLimiter, "returned" | "leave" | "adopt">;

export interface PlaceReturnsMember {
  /**
   * Hands this process's places in use to a live one (its parked places go
   * back to PostgreSQL) and stops listening; returns heard meanwhile are
   * sent again once the other has them. Before the process's PostgreSQL
   * pool and NATS connection close.
   */
  leave(): Promise<void>;
}

/**
 * Hands the returns every process sends to `lender`, and adopts the places
 * in use of processes that stop, until `leave`.
 */
export function joinPlaceReturns(nc: NatsConnection, target: ActivationStream, lender: Lender): PlaceReturnsMember {
  /** Returns heard while this process is handing its places over. */
  let heardWhileLeaving: ReturnMessage[] | undefined;
  const returns = nc.subscribe(placeReturnsSubject(target), {
    callback: (err, msg) => {
      if (err) return;
      const message = parse(msg);
      if (!isReturnMessage(message)) {
        console.error("place returns: dropping a message that is not one");
        return;
      }
      heardWhileLeaving?.push(message);
      lender.returned(message.namespace, message.activationIds);
    },
  });
  const adoption = nc.subscribe(placeAdoptionSubject(target), {
    queue: ADOPTERS,
    callback: (err, msg) => {
      if (err) return;
      const places = parse(msg);
      if (!Array.isArray(places) || !places.every(isPlaceInUse)) {
        console.error("place returns: dropping an adoption that is not one");
        return;
      }
      lender.adopt(places);
      msg.respond("adopted");
    },
  });

  return {
    async leave() {
      adoption.unsubscribe();
      heardWhileLeaving = [];
      const places = await lender.leave();
      if (places.length > 0) {
        try {
          await nc.request(placeAdoptionSubject(target), JSON.stringify(places), { timeout: ADOPTION_TIMEOUT_MS });
          const handed = new Set(places.map((place) => `${place.namespace}\n${place.activationId}`));
          for (const { namespace, activationIds } of heardWhileLeaving) {
            const ours = activationIds.filter((id) => handed.has(`${namespace}\n${id}`));
            if (ours.length > 0) nc.publish(placeReturnsSubject(target), JSON.stringify({ namespace, activationIds: ours }));
          }
        } catch (err) {
          console.error(`place returns: no process took ${places.length} place(s) in use; they expire with their leases:`, (err as Error).message);
        }
      }
      returns.unsubscribe();
      await nc.flush();
    },
  };
}
