// How much accepted work waits in NATS, for edgewhisk_queue_pending: the
// messages of the activation stream its consumers have not been handed yet,
// summed over all of them: one shared consumer or one per invoker, as long
// as their subjects do not overlap a message waits in one of them only.
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";

/** A scrape must not hang on an unreachable server; Prometheus gives up after 10 s by default. */
const ASK_TIMEOUT_MS = 2_000;

export function queueDepth(nc: NatsConnection, stream: string): () => Promise<number> {
  let manager: Promise<JetStreamManager> | undefined;
  return async () => {
    manager ??= jetstreamManager(nc, { timeout: ASK_TIMEOUT_MS, checkAPI: false });
    let pending = 0;
    for await (const consumer of (await manager).consumers.list(stream)) pending += consumer.num_pending;
    return pending;
  };
}
