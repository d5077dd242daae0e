// Starting a non-blocking activation: the action must be invocable by the
// caller now (so errors are answered at once), then the work is queued.
// Also where an admitted activation takes and gives back its place among
// its namespace's concurrent activations (concurrentInvocations).
import { leaseOf } from "../core/concurrency.js";
import { resolveAction, type ResolutionCache } from "../core/resolve.js";
import type { ConcurrencyGate } from "../ports/admission.js";
import type { Dispatcher } from "../ports/dispatcher.js";
import type { InvokeRequest } from "../ports/invokers.js";
import type { Store } from "../ports/store.js";

/**
 * Takes the activation's place (OpenWhisk's 429 when the namespace has its
 * limit in flight); the request it answers carries the lease, so whoever
 * ends the activation gives the place back.
 */
export async function leasePlace(gate: ConcurrencyGate | undefined, request: InvokeRequest): Promise<InvokeRequest> {
  if (!gate) return request;
  const lease = await gate.acquire(request.identity.namespace, request.activationId);
  return { ...request, leased: true, ...(lease ? { lease } : {}) };
}

/** Gives back a request's place, if it holds one; a failure is logged (the place expires anyway). */
export async function releasePlace(gate: ConcurrencyGate | undefined, request: InvokeRequest): Promise<void> {
  if (!request.leased || !gate) return;
  try {
    await gate.release(request.identity.namespace, leaseOf(request));
  } catch (err) {
    console.error(`activation ${request.activationId}: releasing its place in ${request.identity.namespace} failed (it expires):`, err);
  }
}

/**
 * Throws OpenWhisk's error when the caller cannot invoke the action now
 * (absent, not accessible). With `resolutions` (a controller's), a recent
 * resolution stands in for reading the action again.
 */
export async function assertInvocable(deps: { store: Store; resolutions?: ResolutionCache }, request: InvokeRequest): Promise<void> {
  const { action, identity } = request;
  await (deps.resolutions
    ? deps.resolutions.resolve(deps.store, action, identity.namespace)
    : resolveAction(deps.store, action, identity.namespace));
}

/** Queues the activation; one that cannot be queued gives back its place. */
export async function startActivation(
  deps: { store: Store; dispatcher: Dispatcher; concurrency?: ConcurrencyGate; resolutions?: ResolutionCache },
  request: InvokeRequest,
) {
  try {
    await assertInvocable(deps, request);
    await deps.dispatcher.dispatch({ type: "invoke", request });
  } catch (err) {
    await releasePlace(deps.concurrency, request);
    throw err;
  }
}
