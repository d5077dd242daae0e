// Carrying out a trigger fire: one non-blocking activation per active rule,
// then the trigger's activation record logging each rule's outcome. Action
// activation ids derive from the fire's id and the rule, so a fire carried
// out again re-queues the same activations instead of new ones.
//
// A fire through the API is carried out at once, in the request, as
// OpenWhisk's controller activates the rules itself: the rule activations
// are queued and the trigger's record written before the 202, so a fire
// costs one queue trip and one store write besides its rule activations'.
// Where accepted work is journaled (`npm start`), the rule activations'
// journal entries go in that same write (Dispatcher.dispatchRecorded).
// Should that fail part way (a store or queue error), the fire is queued
// and its consumer carries it out again, so the id answered still ends with
// a record. An alarm's fire goes through the queue (acceptFire).
import { derivedActivationId, newActivationId } from "../core/activation.js";
import { getEntityOf } from "../core/entity-reads.js";
import { WhiskError } from "../core/errors.js";
import { qualifiedName, type EntityRef } from "../core/names.js";
import type { ResolutionCache } from "../core/resolve.js";
import type { TriggerCache } from "../core/trigger-cache.js";
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
import type { InvokeRequest } from "../ports/invokers.js";
import type { Store } from "../ports/store.js";
import { assertInvocable, leasePlace, releasePlace, startActivation } from "./start.js";

/** A fire as its caller makes it. */
export interface FireRequest {
  identity: Identity;
  trigger: EntityRef;
  payload: Record<string, unknown>;
  headers: Record<string, string>;
  apiHost: string;
  transactionId: string;
}

/** What carrying out a fire needs: rule activations are admitted, leased and queued. */
export interface FireDeps {
  store: Store;
  dispatcher: Dispatcher;
  throttle: Throttle;
  concurrency?: ConcurrencyGate;
  /** A controller's recent resolutions stand in for reading a rule's action again. */
  resolutions?: ResolutionCache;
  /** ... and its recent triggers for reading the fired trigger again. */
  triggers?: TriggerCache;
}

/** The fire of `trigger` as it is now, under a new id; undefined (OpenWhisk's 204) when no rule is active. */
async function newFire(deps: { store: Store; triggers?: TriggerCache }, fire: FireRequest): Promise<TriggerFire | undefined> {
  const { doc: trigger } = await (deps.triggers ? deps.triggers.get(deps.store, fire.trigger) : getEntityOf(deps.store, "triggers", fire.trigger));
  const rules = trigger.rules ?? {};
  if (!Object.values(rules).some((entry) => entry.status === "active")) return undefined;
  return {
    activationId: newActivationId(),
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
  };
}

/**
 * Accepts a fire of `trigger` by `identity` and queues it for a consumer to
 * carry out: undefined (OpenWhisk's 204) when no rule is active, else the
 * id of the trigger activation now queued.
 */
export async function acceptFire(deps: { store: Store; dispatcher: Dispatcher }, fire: FireRequest): Promise<string | undefined> {
  const accepted = await newFire(deps, fire);
  if (!accepted) return undefined;
  await deps.dispatcher.dispatch({ type: "fire", fire: accepted });
  return accepted.activationId;
}

/**
 * Fires `trigger` and carries the fire out at once: its rule activations
 * queued and its record written when this resolves. Undefined (OpenWhisk's
 * 204) when no rule is active, else the trigger activation's id. A failure
 * part way queues the fire, marked as possibly carried out before, for a
 * consumer to finish; only when that fails too is the caller answered an
 * error (some rule activations may have been queued by then).
 */
export async function fireTrigger(deps: FireDeps, fire: FireRequest): Promise<string | undefined> {
  const accepted = await newFire(deps, fire);
  if (!accepted) return undefined;
  try {
    await carryOutFire(accepted, deps, { repeat: false });
  } catch (err) {
    console.error(`trigger fire ${accepted.activationId} not carried out at once, queued for a consumer:`, err);
    await deps.dispatcher.dispatch({ type: "fire", fire: accepted, resent: true });
  }
  return accepted.activationId;
}

/** Marks what `dispatcher` sends as possibly sent before, so its consumer checks for a record first (dispatch.ts). */
function resending(dispatcher: Dispatcher): Dispatcher {
  return {
    dispatch: (message) => dispatcher.dispatch({ ...message, resent: true }),
    adopt: dispatcher.adopt && ((message) => dispatcher.adopt!({ ...message, resent: true })),
    dispatchRecorded:
      dispatcher.dispatchRecorded &&
      ((messages, record) => dispatcher.dispatchRecorded!(messages.map((message) => ({ ...message, resent: true })), record)),
  };
}

export function ruleActivationId(fireId: string, rule: string): Promise<string> {
  return derivedActivationId(fireId, rule);
}

/** An outcome logged for a rule whose activation was refused or could not start. */
function refusedOutcome(rule: string, action: string, err: WhiskError): RuleOutcome {
  return { rule, action, statusCode: err.status >= 500 ? 3 : 1, success: false, error: err.message };
}

/**
 * Starts the activations of a fire's active rules; each counts against the
 * namespace's invoke rate and holds a place of its concurrent activations
 * until it ends, as OpenWhisk's do. A refused one is logged in the trigger
 * activation. Places are taken rule by rule, in the trigger's order; the
 * admitted activations are then queued together.
 */
export async function carryOutFire(
  fire: TriggerFire,
  deps: FireDeps,
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
  const outcomes: (RuleOutcome | AdmittedRule)[] = [];
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
      outcomes.push({ rule, action, request });
    } catch (err) {
      if (!(err instanceof WhiskError)) {
        await releaseAdmitted(deps.concurrency, outcomes);
        throw err;
      }
      outcomes.push(refusedOutcome(rule, action, err));
    }
  }
  const record = (ruleOutcomes: RuleOutcome[]) =>
    triggerActivation({
      activationId: fire.activationId,
      namespace: fire.identity.namespace,
      subject: fire.identity.subject,
      name: fire.trigger.name,
      version: fire.triggerVersion,
      start: fire.receivedAt,
      payload: fire.payload,
      outcomes: ruleOutcomes,
    });
  if (deps.dispatcher.dispatchRecorded) {
    // The journal entries of the rule activations and the fire's record in one store write.
    const ready = await invocableRules(deps, outcomes);
    const requests = ready.flatMap((outcome) => ("request" in outcome ? [outcome.request] : []));
    try {
      await deps.dispatcher.dispatchRecorded(
        requests.map((request) => ({ type: "invoke", request })),
        record(ready.map((outcome) => ("request" in outcome ? startedOutcome(outcome) : outcome))),
      );
    } catch (err) {
      await releaseAdmitted(deps.concurrency, ready);
      throw err;
    }
    return;
  }
  const started = await Promise.allSettled(
    outcomes.map(async (outcome): Promise<RuleOutcome> => {
      if (!("request" in outcome)) return outcome;
      try {
        await startActivation(deps, outcome.request);
        return startedOutcome(outcome);
      } catch (err) {
        if (err instanceof WhiskError) return refusedOutcome(outcome.rule, outcome.action, err);
        throw err;
      }
    }),
  );
  const failed = started.find((result) => result.status === "rejected");
  if (failed) throw failed.reason;
  await deps.store.putActivation(record(started.map((result) => (result as PromiseFulfilledResult<RuleOutcome>).value)));
}

type AdmittedRule = { rule: string; action: string; request: InvokeRequest };

function startedOutcome({ rule, action, request }: AdmittedRule): RuleOutcome {
  return { rule, action, statusCode: 0, success: true, activationId: request.activationId };
}

/**
 * The admitted rules whose action the caller may invoke now, the others
 * logged as refused with their places given back. When the check itself
 * fails (the store), every place taken is given back and the error thrown.
 */
async function invocableRules(deps: FireDeps, outcomes: readonly (RuleOutcome | AdmittedRule)[]): Promise<(RuleOutcome | AdmittedRule)[]> {
  const checked = await Promise.allSettled(
    outcomes.map(async (outcome) => {
      if (!("request" in outcome)) return outcome;
      try {
        await assertInvocable(deps, outcome.request);
        return outcome;
      } catch (err) {
        if (!(err instanceof WhiskError)) throw err;
        await releasePlace(deps.concurrency, outcome.request);
        return refusedOutcome(outcome.rule, outcome.action, err);
      }
    }),
  );
  if (checked.some((result) => result.status === "rejected")) {
    await releaseAdmitted(deps.concurrency, outcomes);
    throw (checked.find((result) => result.status === "rejected") as PromiseRejectedResult).reason;
  }
  return checked.map((result) => (result as PromiseFulfilledResult<RuleOutcome | AdmittedRule>).value);
}

/** Gives back the places taken for rules not yet started (a fire that stops before queueing them). */
async function releaseAdmitted(gate: ConcurrencyGate | undefined, outcomes: readonly object[]): Promise<void> {
  for (const outcome of outcomes) if ("request" in outcome) await releasePlace(gate, (outcome as { request: InvokeRequest }).request);
}
