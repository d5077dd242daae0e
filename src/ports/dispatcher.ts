// The Dispatcher port: the queue of asynchronous work (non-blocking
// activations, trigger fires). Cloudflare Queues (src/cloudflare/queue.ts)
// and NATS JetStream (src/node/nats.ts) implement it; what a consumer does
// with a message is src/activation/dispatch.ts.
import type { ActivationRecord } from "../core/activation.js";
import type { EntityRef } from "../core/names.js";
import type { Identity } from "./identity.js";
import type { InvokeRequest } from "./invokers.js";

/**
 * A unit of asynchronous work: a non-blocking activation or a trigger fire.
 * `resent` marks a message that may repeat one sent before (src/activation/dispatch.ts).
 */
export type DispatchMessage = ({ type: "invoke"; request: InvokeRequest } | { type: "fire"; fire: TriggerFire }) & { resent?: true };

/** A trigger fire accepted by the controller, with the trigger as it was when fired. */
export interface TriggerFire {
  activationId: string;
  transactionId: string;
  trigger: EntityRef;
  triggerVersion: string;
  triggerParams: { key: string; value: unknown }[];
  rules: Record<string, { action: { path: string; name: string }; status: "active" | "inactive" }>;
  identity: Identity;
  payload: Record<string, unknown>;
  /** Lower-cased request headers, passed to rule actions as __ow_headers. */
  headers: Record<string, string>;
  receivedAt: number;
  apiHost: string;
}

export interface Dispatcher {
  dispatch(message: DispatchMessage): Promise<void>;
  /**
   * Takes on an accepted activation already running outside the queue (a
   * blocking invoke answered 202 when its wait ran out), where the queue's
   * host may lose work: remembered like a queued message, so it still ends
   * with a record if the server dies before it does. Absent where nothing
   * accepted is lost with a process.
   */
  adopt?(message: DispatchMessage): Promise<void>;
  /**
   * Queues `messages` and records `record`, their cause (a fire's rule
   * activations and the fire's record), where both can go in one store
   * write: a dispatcher that journals writes the entries and the record in
   * one transaction, then queues. Absent elsewhere: the caller queues, then
   * records.
   */
  dispatchRecorded?(messages: DispatchMessage[], record: ActivationRecord): Promise<void>;
}
