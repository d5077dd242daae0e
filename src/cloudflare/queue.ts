// Queues: non-blocking activations go through the activations queue; its
// consumer runs each on its invoker. Delivery is at least once, so a message
// whose record already exists is acknowledged without running again.
// Messages that exhaust their retries land in the dead-letter queue, whose
// consumer records a whisk internal error: nothing accepted is lost.
import { WhiskError, Messages } from "../core/errors.js";
import { failedActivation } from "../invoker/failures.js";
import type { Dispatcher, DispatchMessage, Invokers, Store } from "../ports.js";

export class QueueDispatcher implements Dispatcher {
  constructor(private readonly queue: Queue<DispatchMessage>) {}

  async dispatch(message: DispatchMessage): Promise<void> {
    await this.queue.send(message, { contentType: "json" });
  }
}

export async function consumeActivations(
  batch: MessageBatch<DispatchMessage>,
  store: Store,
  invokers: Invokers,
): Promise<void> {
  await Promise.all(
    batch.messages.map(async (message) => {
      const { request } = message.body;
      try {
        if (await store.getActivation(request.identity.namespace, request.activationId)) {
          message.ack();
          return;
        }
        await invokers.invoke(request);
        message.ack();
      } catch (err) {
        if (err instanceof WhiskError) {
          // The action cannot run any more (deleted, access revoked): record why.
          const detail = err.status === 404 ? Messages.actionRemovedWhileInvoking : err.message;
          await store.putActivation(failedActivation(request, detail, Date.now()));
          message.ack();
          return;
        }
        console.error(`activation ${request.activationId} failed, will retry:`, err);
        message.retry({ delaySeconds: Math.min(60, 2 ** message.attempts) });
      }
    }),
  );
}

export async function consumeDeadLetters(batch: MessageBatch<DispatchMessage>, store: Store): Promise<void> {
  await Promise.all(
    batch.messages.map(async (message) => {
      const { request } = message.body;
      await store.putActivation(
        failedActivation(request, "The activation could not be run after repeated attempts.", Date.now()),
      );
      message.ack();
    }),
  );
}
