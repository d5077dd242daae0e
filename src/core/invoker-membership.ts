// Invoker membership as pure rules (no clock, no NATS): what an invoker's
// heartbeat says, which invokers are routed to at a given moment, the order
// an action tries them in, and which silent invokers' queued work is taken
// over. The Node host applies them (src/node/membership.ts, adoption.ts);
// OpenWhisk's load balancer makes the same decisions from its health pings.
import { rendezvousRank } from "./rendezvous.js";

/** What an invoker publishes about itself every ANNOUNCE_EVERY_MS. */
export interface InvokerAnnouncement {
  /** Stable across restarts (a StatefulSet pod name): its queue subject and consumer are named by it. */
  id: string;
  /** Base URL the controllers and other invokers call it on. */
  url: string;
  /** Activations it runs at once (INVOKER_CONCURRENCY). */
  capacity: number;
  /** capacity minus activations in flight when it announced. */
  free: number;
  /** Finishing its work before it exits: given nothing new. */
  draining: boolean;
  /** The invoker's clock when it announced. */
  at: number;
}

/** An announcement as a watcher holds it. */
export interface Member extends InvokerAnnouncement {
  /** The watcher's clock when the announcement was last seen (never ahead of it). */
  seenAt: number;
}

export const ANNOUNCE_EVERY_MS = 1_000;
/** An invoker not heard from for longer is not routed to (three missed heartbeats). */
export const SILENT_AFTER_MS = 3_000;
/** How long the heartbeat store keeps an announcement: a watcher starting later learns of members from it. */
export const ANNOUNCEMENT_TTL_MS = 5_000;
/**
 * An invoker silent for longer is taken for gone and its queued work is
 * handed to others. Longer than SILENT_AFTER_MS so that a restart under the
 * same id (a pod rescheduled) resumes its own queue instead.
 */
export const ADOPT_AFTER_MS = 10_000;

/** Ids name NATS subjects and consumers: letters, digits, '-' and '_' only. */
export const INVOKER_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** An announcement read from the wire, or undefined when it is not one. */
export function parseAnnouncement(value: unknown): InvokerAnnouncement | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const a = value as Record<string, unknown>;
  const count = (n: unknown) => typeof n === "number" && Number.isInteger(n) && n >= 0;
  if (typeof a.id !== "string" || !INVOKER_ID.test(a.id)) return undefined;
  if (typeof a.url !== "string" || !/^https?:\/\//.test(a.url)) return undefined;
  if (!count(a.capacity) || !count(a.free) || typeof a.draining !== "boolean" || typeof a.at !== "number") return undefined;
  return { id: a.id, url: a.url, capacity: a.capacity as number, free: a.free as number, draining: a.draining, at: a.at };
}

/** Whether `member` is routed to at `now`: heard from lately and not draining. */
export function isLive(member: Member, now: number): boolean {
  return !member.draining && now - member.seenAt <= SILENT_AFTER_MS;
}

/**
 * The live invokers in the order an action (its qualified name as `key`)
 * tries them: its rendezvous order, those with a free slot first, so work
 * spills to the next invoker before it queues at a full one; when every one
 * is full, the home invoker still comes first (the work waits there, warm).
 */
export function dispatchOrder(members: readonly Member[], key: string, now: number): Member[] {
  const live = new Map(members.filter((m) => isLive(m, now)).map((m) => [m.id, m]));
  const ranked = rendezvousRank([...live.keys()], key).map((id) => live.get(id)!);
  return [...ranked.filter((m) => m.free > 0), ...ranked.filter((m) => m.free <= 0)];
}

/**
 * Invokers whose queued work (`queued`: ids with messages in their
 * subjects) is to be taken over at `now`: those silent past ADOPT_AFTER_MS,
 * and those never heard from by a watcher that has been watching that long
 * (it started after they went quiet). A draining invoker hands over its own
 * queue before it exits; what it leaves is adopted the same way.
 */
export function orphanedInvokers(queued: Iterable<string>, members: readonly Member[], now: number, watchingSince: number): string[] {
  const known = new Map(members.map((m) => [m.id, m]));
  return [...new Set(queued)].filter((id) => {
    const member = known.get(id);
    return member ? now - member.seenAt > ADOPT_AFTER_MS : now - watchingSince > ADOPT_AFTER_MS;
  });
}
