// Starting a non-blocking activation: the action must be invocable by the
// caller now (so errors are answered at once), then the work is queued.
import { resolveAction } from "../core/resolve.js";
import type { Dispatcher, InvokeRequest, Store } from "../ports.js";

export async function startActivation(deps: { store: Store; dispatcher: Dispatcher }, request: InvokeRequest) {
  await resolveAction(deps.store, request.action, request.identity.namespace);
  await deps.dispatcher.dispatch({ type: "invoke", request });
}
