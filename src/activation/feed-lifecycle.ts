// The feed lifecycle: a feed is an ordinary action invoked (blocking) with
// lifecycleEvent, triggerName (`/ns/trigger`) and the caller's authKey.
import { newActivationId, type ActivationRecord } from "../core/activation.js";
import { parseQualifiedName, type EntityRef } from "../core/names.js";
import type { Platform } from "../ports/platform.js";
import type { Identity } from "../ports/identity.js";

export type LifecycleEvent = "CREATE" | "READ" | "UPDATE" | "DELETE" | "PAUSE" | "UNPAUSE";

export async function invokeFeed(
  platform: Pick<Platform, "invokers">,
  identity: Identity,
  feedName: string,
  event: LifecycleEvent,
  trigger: EntityRef,
  params: Record<string, unknown>,
  apiHost: string,
  transactionId: string,
): Promise<ActivationRecord> {
  const record = await platform.invokers.invoke({
    activationId: newActivationId(),
    transactionId,
    action: parseQualifiedName(feedName, identity.namespace),
    identity,
    params: {
      ...params,
      lifecycleEvent: event,
      triggerName: `/${trigger.namespace}/${trigger.name}`,
      authKey: identity.authKey,
    },
    receivedAt: Date.now(),
    apiHost,
  });
  if (!record.response.success) {
    const error = (record.response.result as { error?: unknown } | undefined)?.error;
    throw new Error(`feed ${feedName} answered ${event} with ${JSON.stringify(error ?? record.response.status)}`);
  }
  return record;
}
