// Cloudflare Queues as the dispatcher of non-blocking activations. Messages
// that exhaust their retries land in the dead-letter queue, whose consumer
// records a whisk internal error: nothing accepted is lost.
import { handleDeadLetter, handleDispatch, type DispatchDeps } from "../invoker/dispatch.js";
import type { ConcurrencyGate, Dispatcher, DispatchMessage, Store } from "../ports.js";

export class QueueDispatcher implements Dispatcher {
  constructor(private readonly queue: Queue<DispatchMessage>) {}

  async dispatch(message: DispatchMessage): Promise<void> {
    await this.queue.send(message, { contentType: "json" });
  }
}

export async function consumeActivations(batch: MessageBatch<DispatchMessage>, deps: DispatchDeps): Promise<void> {
  await Promise.all(
    batch.messages.map(async (message) => {
      const disposition = await handleDispatch(message.body, deps);
      if (disposition === "done") message.ack();
      else message.retry({ delaySeconds: Math.min(60, 2 ** message.attempts) });
    }),
  );
}

export async function consumeDeadLetters(batch: MessageBatch<DispatchMessage>, store: Store, concurrency?: ConcurrencyGate): Promise<void> {
  await Promise.all(
    batch.messages.map(async (message) => {
      await handleDeadLetter(message.body, store, concurrency);
      message.ack();
    }),
  );
}
