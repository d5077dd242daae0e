// Each invoker's own queue: a subject of the activation stream,
// `<stream>.invoker.<id>`, with a durable consumer named by the invoker's id.
// A controller publishes a non-blocking activation (or a rule's, from a
// fire) straight to the first invoker of the action's order (membership.ts),
// and that invoker consumes, runs and records it: no controller holds a
// connection for it. While no invoker is live the activation waits on the
// controllers' subject, and a controller places it once one is.
import type { NatsConnection } from "@nats-io/transport-node";
import { qualifiedName } from "../core/names.js";
import { handleDeadLetter, handleDispatch, type DispatchDeps } from "../activation/dispatch.js";
import type { Dispatcher, DispatchMessage } from "../ports/dispatcher.js";
import type { InvokeRequest } from "../ports/invokers.js";
import type { MembershipView } from "./membership.js";
import {
  ensureConsumer,
  GatheredPublisher,
  NatsDispatcher,
  priorDeliveries,
  type ActivationStream,
  type DeliveryPolicy,
  type Publisher,
  type QueueWork,
} from "./nats.js";

export function invokerSubject(target: ActivationStream, id: string): string {
  return `${target.invokerPrefix}.${id}`;
}

export function invokerDurable(id: string): string {
  return `invoker-${id}`;
}

/** The invoker's durable consumer of its subject; the same one after a restart under the same id. */
export function ensureInvokerConsumer(nc: NatsConnection, target: ActivationStream, id: string, policy: DeliveryPolicy): Promise<void> {
  return ensureConsumer(nc, target.stream, invokerDurable(id), invokerSubject(target, id), policy);
}

export interface Placement {
  /** JetStream keeps one message per id within its duplicate window. */
  msgID: string;
  /** Deliveries the message had in the queue it comes from. */
  prior?: number;
  /** An invoker not to place it on (the one it is taken from). */
  avoid?: string;
}

/**
 * Publishes an activation to the first live invoker of its action's order;
 * the invoker's id, or undefined when no invoker is live.
 */
export async function placeActivation(
  js: Publisher,
  target: ActivationStream,
  membership: MembershipView,
  request: InvokeRequest,
  payload: string,
  placement: Placement,
): Promise<string | undefined> {
  const invoker = membership.order(qualifiedName(request.action)).find((m) => m.id !== placement.avoid);
  if (!invoker) return undefined;
  await js.publish(invokerSubject(target, invoker.id), payload, {
    msgID: placement.msgID,
    ...(placement.prior ? { headers: priorDeliveries(placement.prior) } : {}),
  });
  membership.claim(invoker.id);
  return invoker.id;
}

/** The Dispatcher of the Node host: activations to their invoker's queue, fires to the controllers'. */
export class MembershipDispatcher implements Dispatcher {
  private readonly publisher: GatheredPublisher;
  private readonly controllers: NatsDispatcher;

  constructor(
    nc: NatsConnection,
    private readonly target: ActivationStream,
    private readonly membership: MembershipView,
  ) {
    this.publisher = new GatheredPublisher(nc);
    this.controllers = new NatsDispatcher(nc, target);
  }

  /** Resolves once the stream has stored the message: the activation is accepted. */
  async dispatch(message: DispatchMessage): Promise<void> {
    if (message.type === "invoke") {
      // The activation id as message id: a publish repeated by a retry (or a fire's redelivery) is stored once.
      const { request } = message;
      const placed = await placeActivation(this.publisher, this.target, this.membership, request, JSON.stringify(message), {
        msgID: request.activationId,
      });
      if (placed) return;
    }
    await this.controllers.dispatch(message);
  }
}

/**
 * What controllers do with their subject: carry out fires (their rules'
 * activations go to invokers' queues through deps.dispatcher), and place
 * activations that were accepted while no invoker was live, retrying while
 * there is still none (and recording the dead letter when that lasts).
 */
export function controllerWork(nc: NatsConnection, target: ActivationStream, membership: MembershipView, deps: DispatchDeps): QueueWork {
  const js = new GatheredPublisher(nc);
  return {
    async handle(message, delivery) {
      if (message.type === "fire") return handleDispatch(message, deps, { attempts: delivery });
      // A distinct id from the accepted message's, which the stream still remembers as a duplicate.
      const msgID = `${message.request.activationId}:placed`;
      const placed = await placeActivation(js, target, membership, message.request, JSON.stringify(message), { msgID });
      return placed ? "done" : "retry";
    },
    deadLetter: (message) => handleDeadLetter(message, deps.store, deps.concurrency),
  };
}
