// The Invokers port on Cloudflare: one invoker Durable Object per action
// name, called by RPC (no queue on the blocking path).
import type { ActivationRecord } from "../core/activation.js";
import { qualifiedName, type EntityRef } from "../core/names.js";
import type { InvokeRequest, Invokers, UpcomingVersion, WebInvokeRequest, WebOutcome } from "../ports/invokers.js";
import { decodeInvokeOutcome, decodeWebOutcome } from "../runtime/invoke-outcome.js";
import type { Invoker } from "./invoker-do.js";

const ids = new Map<string, DurableObjectId>();
const MAX_IDS = 1_000;

/**
 * Object ids are cached per isolate (deriving one hashes the name, and a hot
 * action is named on every request); stubs cannot be, they belong to a request.
 */
function idFor(namespace: DurableObjectNamespace<Invoker>, name: string): DurableObjectId {
  let id = ids.get(name);
  if (!id) {
    if (ids.size >= MAX_IDS) ids.delete(ids.keys().next().value!);
    id = namespace.idFromName(name);
    ids.set(name, id);
  }
  return id;
}

export class DurableObjectInvokers implements Invokers {
  constructor(private readonly namespace: DurableObjectNamespace<Invoker>) {}

  private stub(ref: EntityRef) {
    return this.namespace.get(idFor(this.namespace, qualifiedName(ref)));
  }

  async invoke(request: InvokeRequest): Promise<ActivationRecord> {
    return decodeInvokeOutcome(await this.stub(request.action).invoke(request));
  }

  async invokeWeb(request: WebInvokeRequest): Promise<WebOutcome> {
    return decodeWebOutcome(await this.stub(request.action).invokeWeb(request));
  }

  async announce(upcoming: UpcomingVersion): Promise<void> {
    await this.stub(upcoming.ref).announce(upcoming);
  }

  async invalidate(refs: EntityRef[]): Promise<void> {
    await Promise.all(refs.map((ref) => this.stub(ref).invalidate([ref])));
  }
}
