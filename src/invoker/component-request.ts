// A sequence component is an activation of its own, run on whichever invoker
// holds its action; every host builds that activation's request the same way.
import { newActivationId } from "../core/activation.js";
import type { InvokeRequest } from "../ports/invokers.js";
import type { ComponentCall } from "./sequence.js";

export function componentRequest(call: ComponentCall): InvokeRequest {
  return {
    activationId: newActivationId(),
    transactionId: call.transactionId,
    action: call.action,
    identity: call.identity,
    params: call.params,
    receivedAt: Date.now(),
    cause: call.cause,
    apiHost: call.apiHost,
    extraAnnotations: [{ key: "causedBy", value: "sequence" }],
  };
}
