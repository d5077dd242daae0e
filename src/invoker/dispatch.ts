// Handling one dispatched message, whatever queue delivered it (Cloudflare
// Queues, NATS JetStream). Delivery is at least once, so a message whose
// activation is already recorded is done without running again; a message
// that cannot succeed is recorded as a failed activation, never dropped.
import { Messages, WhiskError } from "../core/errors.js";
import type { Dispatcher, DispatchMessage, Invokers, Store, Throttle } from "../ports.js";
import { failedActivation } from "./failures.js";
import { carryOutFire } from "./fire.js";

export type Disposition = "done" | "retry";

export interface DispatchDeps {
  store: Store;
  invokers: Invokers;
  /** Trigger fires queue the activations of their rules. */
  dispatcher: Dispatcher;
  /** Rule activations of a fire count against the namespace's invoke rate. */
  throttle: Throttle;
}

export async function handleDispatch(message: DispatchMessage, deps: DispatchDeps): Promise<Disposition> {
  if (message.type === "fire") {
    try {
      await carryOutFire(message.fire, deps);
      return "done";
    } catch (err) {
      console.error(`trigger fire ${message.fire.activationId} failed, will retry:`, err);
      return "retry";
    }
  }
  const { request } = message;
  try {
    if (await deps.store.getActivation(request.identity.namespace, request.activationId)) return "done";
    await deps.invokers.invoke(request);
    return "done";
  } catch (err) {
    if (err instanceof WhiskError) {
      // The action cannot run any more (deleted, access revoked): record why.
      const detail = err.status === 404 ? Messages.actionRemovedWhileInvoking : err.message;
      await deps.store.putActivation(failedActivation(request, detail, Date.now()));
      return "done";
    }
    console.error(`activation ${request.activationId} failed, will retry:`, err);
    return "retry";
  }
}

/** For a message that used up its retries: record the failure so the activation id resolves. */
export async function handleDeadLetter(message: DispatchMessage, store: Store): Promise<void> {
  const now = Date.now();
  if (message.type === "invoke") {
    await store.putActivation(failedActivation(message.request, Messages.dispatchExhausted, now));
    return;
  }
  const { fire } = message;
  await store.putActivation(
    failedActivation(
      {
        activationId: fire.activationId,
        transactionId: fire.transactionId,
        action: fire.trigger,
        identity: fire.identity,
        params: fire.payload,
        receivedAt: fire.receivedAt,
        apiHost: fire.apiHost,
      },
      Messages.dispatchExhausted,
      now,
    ),
  );
}
