// Handling one dispatched message, whatever queue delivered it (Cloudflare
// Queues, NATS JetStream). Delivery is at least once, so a message whose
// activation is already recorded is done without running again; a message
// that cannot succeed is recorded as a failed activation, never dropped.
import { Messages, WhiskError } from "../core/errors.js";
import type { DispatchMessage, Invokers, Store } from "../ports.js";
import { failedActivation } from "./failures.js";

export type Disposition = "done" | "retry";

export interface DispatchDeps {
  store: Store;
  invokers: Invokers;
}

export async function handleDispatch(message: DispatchMessage, deps: DispatchDeps): Promise<Disposition> {
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
  await store.putActivation(failedActivation(message.request, Messages.dispatchExhausted, Date.now()));
}
