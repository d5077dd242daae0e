// The invoker Durable Object: owns the warm isolate of one action name,
// its resolved document and code, and the write-behind outbox of its
// activation records.
import { DurableObject } from "cloudflare:workers";
import type { EntityRef } from "../core/names.js";
import { componentRequest } from "../invoker/component-request.js";
import { HOST_CODE_GENERATION } from "../invoker/code-generation.js";
import { ActivationExecutor } from "../invoker/executor.js";
import type { IsolateHost } from "../ports/isolate-host.js";
import type { InvokeRequest, UpcomingVersion, WebInvokeRequest } from "../ports/invokers.js";
import { encodeOutcome, type InvokeOutcome, type WebInvokeOutcome } from "../runtime/invoke-outcome.js";
import openwhiskSource from "../runtime/isolate/openwhisk.bundle.js";
import precompiledEvalSource from "../runtime/isolate/precompiled-eval.js";
import runnerSource from "../runtime/isolate/runner.js";
import { SqlStore } from "../store/sql-store.js";
import { D1Sql } from "./d1.js";
import type { Env } from "./env.js";
import { DurableObjectInvokers } from "./invoker-do-client.js";
import type { GatewayProps } from "./outbound-gateway.js";
import { LoaderIsolates } from "./loader-isolates.js";
import { PythonRuntime, pythonRunnerSource } from "./python-isolates.js";
import { SidecarIsolates } from "./sidecar-isolates.js";
import { ActivationOutbox } from "./outbox.js";
import { concurrencyGate, invokerRateGate } from "./throttle-do-client.js";

export class Invoker extends DurableObject<Env> {
  private readonly executor: ActivationExecutor;
  private readonly outbox: ActivationOutbox;
  /** Activations (blocking, queued or web) started here and not ended. */
  private running = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const store = new SqlStore(new D1Sql(env.DB));
    const invokers = new DurableObjectInvokers(env.INVOKER);
    this.outbox = new ActivationOutbox(ctx.storage, store, () => this.running);
    this.executor = new ActivationExecutor({
      store,
      isolates: actionIsolates(ctx, env),
      runnerSource,
      pythonRunnerSource,
      codeGeneration: { mode: HOST_CODE_GENERATION.cloudflare, shimSource: precompiledEvalSource },
      preinstalled: { openwhisk: openwhiskSource },
      recordActivation: (record, resultBytes) => this.outbox.add(record, resultBytes),
      invokeComponent: (call) => invokers.invoke(componentRequest(call)),
      throttle: invokerRateGate(env.THROTTLE, store),
      concurrency: concurrencyGate(env.THROTTLE, store),
      background: (work) => ctx.waitUntil(work),
    });
    // Records a previous incarnation accepted but did not deliver.
    ctx.waitUntil(this.outbox.flush().catch(() => ctx.storage.setAlarm(Date.now() + 1_000)));
  }

  invoke(request: InvokeRequest): Promise<InvokeOutcome> {
    return this.counted(() => encodeOutcome(async () => ({ record: await this.executor.execute(request) })));
  }

  invokeWeb(request: WebInvokeRequest): Promise<WebInvokeOutcome> {
    return this.counted(() => encodeOutcome(() => this.executor.executeWeb(request)));
  }

  private async counted<T>(run: () => Promise<T>): Promise<T> {
    this.running++;
    try {
      return await run();
    } finally {
      this.running--;
    }
  }

  invalidate(refs: EntityRef[]): void {
    this.executor.invalidate(refs);
  }

  announce(upcoming: UpcomingVersion): void {
    this.executor.announce(upcoming);
  }

  override async alarm(): Promise<void> {
    await this.outbox.onAlarm();
  }
}

/**
 * Where actions run: the Worker Loader, or under `npm start` the local isolate
 * sidecar, whose supervised workerd children contain what local workerd
 * cannot (a runaway isolate there would wedge the whole local server).
 */
function actionIsolates(ctx: DurableObjectState, env: Env): IsolateHost {
  if (env.ISOLATE_SIDECAR_URL && env.ISOLATE_SIDECAR_SECRET) {
    return new SidecarIsolates(env.ISOLATE_SIDECAR_URL, env.ISOLATE_SIDECAR_SECRET);
  }
  return new LoaderIsolates(
    env.LOADER,
    (apiHost) => {
      const exports = ctx.exports as unknown as { OutboundGateway(options: { props: GatewayProps }): Fetcher };
      return exports.OutboundGateway({ props: { apiHost } });
    },
    new PythonRuntime(env.LOADER, env.PYTHON_SNAPSHOTS),
  );
}
