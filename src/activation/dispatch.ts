// Handling one dispatched message, whatever queue delivered it (Cloudflare
// Queues, NATS JetStream). Delivery is at least once, so a message whose
// activation is already recorded is done without running again; a message
// that cannot succeed is recorded as a failed activation, never dropped.
// That check costs a store read per activation, so a host whose queue
// delivers a message again only as a counted retry skips it on a message's
// first delivery: a new activation id has no record yet. The ways one id is sent again mark the
// message `resent` (the journal sweep, the rule activations of a fire
// delivered again), and those are always checked.
// An activation that ends here without reaching an executor gives back its
// concurrent place (the executor gives it back otherwise).
import { Messages, WhiskError } from "../core/errors.js";
import type { ConcurrencyGate, Throttle } from "../ports/admission.js";
import type { Dispatcher, DispatchMessage } from "../ports/dispatcher.js";
import type { Invokers } from "../ports/invokers.js";
import type { Store } from "../ports/store.js";
import { failedActivation, failedFire } from "./failures.js";
import { carryOutFire } from "./fire.js";
import { releasePlace } from "./start.js";

export type Disposition = "done" | "retry";

export interface DispatchDeps {
  store: Store;
  invokers: Invokers;
  /** Trigger fires queue the activations of their rules. */
  dispatcher: Dispatcher;
  /** Rule activations of a fire count against the namespace's invoke rate. */
  throttle: Throttle;
  /** ... and hold places of its concurrentInvocations until they end (every host wires it; without it none are taken). */
  concurrency?: ConcurrencyGate;
}

/** How often the queue has delivered a message, the current time included; undefined where the queue does not count. */
export interface Delivery {
  attempts?: number;
}

/** Whether the message may have been handled before: anything but a first delivery of a message never sent before. */
export function mayRepeat(message: DispatchMessage, delivery: Delivery): boolean {
  return message.resent === true || delivery.attempts !== 1;
}

export async function handleDispatch(message: DispatchMessage, deps: DispatchDeps, delivery: Delivery = {}): Promise<Disposition> {
  const repeat = mayRepeat(message, delivery);
  if (message.type === "fire") {
    try {
      await carryOutFire(message.fire, deps, { repeat });
      return "done";
    } catch (err) {
      console.error(`trigger fire ${message.fire.activationId} failed, will retry:`, err);
      return "retry";
    }
  }
  const { request } = message;
  try {
    if (repeat && (await deps.store.getActivation(request.identity.namespace, request.activationId))) {
      // Run before (a redelivery): its place may have been taken again by a redelivered fire.
      await releasePlace(deps.concurrency, request);
      return "done";
    }
    await deps.invokers.invoke(request);
    return "done";
  } catch (err) {
    // An invoker at its bound: the activation waits in the queue, keeping its place.
    if (err instanceof WhiskError && err.status !== 503) {
      // The action cannot run any more (deleted, access revoked): record why.
      const detail = err.status === 404 ? Messages.actionRemovedWhileInvoking : err.message;
      await deps.store.putActivation(failedActivation(request, detail, Date.now()));
      await releasePlace(deps.concurrency, request);
      return "done";
    }
    console.error(`activation ${request.activationId} failed, will retry:`, err);
    return "retry";
  }
}

/** Messages of one delivered batch handled at once, at most (see handleBatch). */
export const BATCH_CONCURRENCY = 16;

/**
 * Handles the messages of one delivered batch, at most `limit` at a time,
 * and tells `settle` each message's disposition as soon as it has one (so a
 * host can ack it then, not after the slowest of the batch). A batch is
 * worked through as a pool, not in waves: the next message starts as soon
 * as any one ends, so one slow activation does not hold back the rest. The
 * bound keeps a large batch from taking an isolate per message at once.
 */
export async function handleBatch(
  messages: readonly { body: DispatchMessage; attempts?: number }[],
  deps: DispatchDeps,
  settle: (index: number, disposition: Disposition) => void,
  limit = BATCH_CONCURRENCY,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < messages.length) {
      const at = next++;
      const { body, attempts } = messages[at]!;
      settle(at, await handleDispatch(body, deps, { attempts }));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, messages.length)) }, worker));
}

/**
 * For a message that used up its retries: record the failure so the
 * activation id resolves, and give back its place (without the gate, the
 * place expires by itself).
 */
export async function handleDeadLetter(message: DispatchMessage, store: Store, concurrency?: ConcurrencyGate): Promise<void> {
  const now = Date.now();
  if (message.type === "invoke") {
    await store.putActivation(failedActivation(message.request, Messages.dispatchExhausted, now));
    await releasePlace(concurrency, message.request);
    return;
  }
  await store.putActivation(failedFire(message.fire, Messages.dispatchExhausted, now));
}
