// The invoker Durable Object: owns the warm isolate of one action name,
// its resolved document and code, and writes its activation records.
import { DurableObject } from "cloudflare:workers";
import { WhiskError } from "../core/errors.js";
import type { EntityRef } from "../core/names.js";
import { ActivationExecutor } from "../invoker/executor.js";
import type { InvokeRequest } from "../ports.js";
import runnerSource from "../runtime/isolate/runner.js";
import { SqlStore } from "../store/sql-store.js";
import { D1Sql } from "./d1.js";
import type { Env } from "./env.js";
import { DurableObjectInvokers, type InvokeOutcome } from "./invokers.js";
import { LoaderIsolates } from "./loader-isolates.js";

export class Invoker extends DurableObject<Env> {
  private readonly executor: ActivationExecutor;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const invokers = new DurableObjectInvokers(env.INVOKER);
    this.executor = new ActivationExecutor({
      store: new SqlStore(new D1Sql(env.DB)),
      isolates: new LoaderIsolates(env.LOADER),
      runnerSource,
      invokeComponent: (call) =>
        invokers.invoke({
          activationId: crypto.randomUUID().replaceAll("-", ""),
          transactionId: call.transactionId,
          action: call.action,
          identity: call.identity,
          params: call.params,
          receivedAt: Date.now(),
          cause: call.cause,
          apiHost: call.apiHost,
          extraAnnotations: [{ key: "causedBy", value: "sequence" }],
        }),
    });
  }

  async invoke(request: InvokeRequest): Promise<InvokeOutcome> {
    try {
      return { record: await this.executor.execute(request) };
    } catch (err) {
      if (err instanceof WhiskError) return { error: { status: err.status, message: err.message } };
      throw err;
    }
  }

  invalidate(refs: EntityRef[]): void {
    this.executor.invalidate(refs);
  }
}
