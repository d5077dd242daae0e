// Carrying out a trigger fire: one non-blocking activation per active rule,
// then the trigger's activation record logging each rule's outcome. Action
// activation ids derive from the fire's id and the rule, so a redelivered
// fire re-queues the same activations instead of new ones.
import { derivedActivationId, newActivationId } from "../core/activation.js";
import { getEntityOf } from "../core/entity-reads.js";
import { WhiskError } from "../core/errors.js";
import { qualifiedName, type EntityRef } from "../core/names.js";
import {
  fireArguments,
  inactiveRuleOutcome,
  refOfPathAndName,
  triggerActivation,
  type RuleOutcome,
} from "../core/triggers.js";
import type { ConcurrencyGate, Throttle } from "../ports/admission.js";
import type { Dispatcher, TriggerFire } from "../ports/dispatcher.js";
import type { Identity } from "../ports/identity.js";
import type { Store } from "../ports/store.js";
import { leasePlace, startActivation } from "./start.js";

/**
 * Accepts a fire of `trigger` by `identity`: undefined (OpenWhisk's 204) when
 * no rule is active, else the id of the trigger activation now queued.
 */
export async function acceptFire(
  deps: { store: Store; dispatcher: Dispatcher },
  fire: {
    identity: Identity;
    trigger: EntityRef;
    payload: Record<string, unknown>;
    headers: Record<string, string>;
    apiHost: string;
    transactionId: string;
  },
): Promise<string | undefined> {
  const { doc: trigger } = await getEntityOf(deps.store, "triggers", fire.trigger);
  const rules = trigger.rules ?? {};
  if (!Object.values(rules).some((entry) => entry.status === "active")) return undefined;
  const activationId = newActivationId();
  await deps.dispatcher.dispatch({
    type: "fire",
    fire: {
      activationId,
      transactionId: fire.transactionId,
      trigger: fire.trigger,
      triggerVersion: trigger.version,
      triggerParams: trigger.parameters,
      rules,
      identity: fire.identity,
      payload: fire.payload,
      headers: fire.headers,
      receivedAt: Date.now(),
      apiHost: fire.apiHost,
    },
  });
  return activationId;
}

/** Marks what `dispatcher` sends as possibly sent before, so its consumer checks for a record first (dispatch.ts). */
function resending(dispatcher: Dispatcher): Dispatcher {
  return {
    dispatch: (message) => dispatcher.dispatch({ ...message, resent: true }),
    adopt: dispatcher.adopt && ((message) => dispatcher.adopt!({ ...message, resent: true })),
  };
}

export function ruleActivationId(fireId: string, rule: string): Promise<string> {
  return derivedActivationId(fireId, rule);
}

/**
 * Starts the activations of a fire's active rules; each counts against the
 * namespace's invoke rate and holds a place of its concurrent activations
 * until it ends, as OpenWhisk's do. A refused one is logged in the trigger
 * activation.
 */
export async function carryOutFire(
  fire: TriggerFire,
  deps: { store: Store; dispatcher: Dispatcher; throttle: Throttle; concurrency?: ConcurrencyGate },
  /**
   * The fire may have been carried out before (its message redelivered or
   * resent): done if its record exists, else its rule activations go out
   * marked `resent`. A first delivery has no record to look for.
   */
  { repeat = true }: { repeat?: boolean } = {},
): Promise<void> {
  if (repeat) {
    if (await deps.store.getActivation(fire.identity.namespace, fire.activationId)) return;
    deps = { ...deps, dispatcher: resending(deps.dispatcher) };
  }
  const args = fireArguments(fire.triggerParams, fire.headers, fire.payload);
  const outcomes: RuleOutcome[] = [];
  for (const [rule, entry] of Object.entries(fire.rules)) {
    const actionRef = refOfPathAndName(entry.action);
    const action = qualifiedName(actionRef);
    if (entry.status !== "active") {
      outcomes.push(inactiveRuleOutcome(rule, action));
      continue;
    }
    const activationId = await ruleActivationId(fire.activationId, rule);
    try {
      await deps.throttle.admit(fire.identity.namespace, "invoke");
      const request = await leasePlace(deps.concurrency, {
        activationId,
        transactionId: fire.transactionId,
        action: actionRef,
        identity: fire.identity,
        params: args,
        receivedAt: fire.receivedAt,
        apiHost: fire.apiHost,
        cause: fire.activationId,
      });
      await startActivation(deps, request);
      outcomes.push({ rule, action, statusCode: 0, success: true, activationId });
    } catch (err) {
      if (!(err instanceof WhiskError)) throw err;
      const statusCode = err.status >= 500 ? 3 : 1;
      outcomes.push({ rule, action, statusCode, success: false, error: err.message });
    }
  }
  await deps.store.putActivation(
    triggerActivation({
      activationId: fire.activationId,
      namespace: fire.identity.namespace,
      subject: fire.identity.subject,
      name: fire.trigger.name,
      version: fire.triggerVersion,
      start: fire.receivedAt,
      payload: fire.payload,
      outcomes,
    }),
  );
}
