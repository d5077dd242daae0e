// Cloudflare Queues as the dispatcher of non-blocking activations. Messages
// that exhaust their retries land in the dead-letter queue, whose consumer
// records a whisk internal error: nothing accepted is lost. Where the queue
// itself is not durable (`npm start`), messages are journaled first.
import { handleBatch, handleDeadLetter, type DispatchDeps } from "../activation/dispatch.js";
import { JournaledDispatcher, JournalWrites } from "../activation/journal.js";
import { GroupCommit } from "../core/group-commit.js";
import type { ConcurrencyGate } from "../ports/admission.js";
import type { Dispatcher, DispatchMessage } from "../ports/dispatcher.js";
import type { Store } from "../ports/store.js";
import type { Env } from "./env.js";

/** Messages sent in one call at most (Queues takes 100 a batch; a batch past its size limit fails and each is sent alone). */
const MAX_GATHERED_MESSAGES = 20;
/** The isolate's sends: concurrent requests' messages go in one sendBatch. */
const sends = new GroupCommit<DispatchMessage>(MAX_GATHERED_MESSAGES);

export class QueueDispatcher implements Dispatcher {
  constructor(private readonly queue: Queue<DispatchMessage>) {}

  async dispatch(message: DispatchMessage): Promise<void> {
    await sends.add([message], async (messages) => {
      if (messages.length === 1) await this.queue.send(messages[0]!, { contentType: "json" });
      else await this.queue.sendBatch(messages.map((body) => ({ body, contentType: "json" as const })));
    });
  }
}

/** The isolate's journal writes: the accepts of concurrent requests share D1 calls (a D1 call costs about ten rows' CPU). */
const journalWrites = new JournalWrites();

/** The dispatcher accepted work goes through: journaled when DISPATCH_JOURNAL names a server run. */
export function dispatcherFor(env: Env, store: Store): Dispatcher {
  const queue = new QueueDispatcher(env.ACTIVATIONS);
  return env.DISPATCH_JOURNAL ? new JournaledDispatcher(store, queue, env.DISPATCH_JOURNAL, Date.now, journalWrites) : queue;
}

/**
 * Handles a delivered batch as a bounded pool (handleBatch), acking or
 * retrying each message as it ends. `firstDeliveryIsFirst`: the queue
 * delivers a message again only as a retry, counted in `attempts` (the local
 * queue of `npm start`). Cloudflare does not document that a duplicate
 * delivery counts as an attempt, so deployed Workers check every message.
 */
export async function consumeActivations(
  batch: MessageBatch<DispatchMessage>,
  deps: DispatchDeps,
  { firstDeliveryIsFirst }: { firstDeliveryIsFirst: boolean },
): Promise<void> {
  const { messages } = batch;
  await handleBatch(
    messages.map((message) => ({ body: message.body, ...(firstDeliveryIsFirst ? { attempts: message.attempts } : {}) })),
    deps,
    (at, disposition) => {
      const message = messages[at]!;
      if (disposition === "done") message.ack();
      else message.retry({ delaySeconds: Math.min(60, 2 ** message.attempts) });
    },
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
