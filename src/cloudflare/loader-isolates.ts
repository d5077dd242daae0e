// IsolateHost over the Worker Loader binding: one isolate per key, reused
// while warm. The isolate gets no bindings; on Cloudflare limits.cpuMs stops
// runaway code (local workerd does not enforce it).
import { IsolateStartError, type IsolateHost, type IsolateRun, type IsolateSpec } from "../invoker/isolates.js";
import type { RunReply, RunRequest } from "../runtime/protocol.js";

export const ISOLATE_COMPATIBILITY_DATE = "2026-08-01";
const START_FAILURE = /^Failed to start Worker:\s*/;

/** The RPC surface of src/runtime/isolate/runner.js. */
type RunnerEntrypoint = Rpc.WorkerEntrypointBranded & { run(request: RunRequest): Promise<RunReply> };

export class LoaderIsolates implements IsolateHost {
  /** Keys retired after a timeout or failed start map to a fresh generation. */
  private readonly generations = new Map<string, number>();

  /** `outbound(apiHost)` is the gateway every outbound request of the isolate goes through. */
  constructor(
    private readonly loader: WorkerLoader,
    private readonly outbound: (apiHost: string) => Fetcher,
  ) {}

  async run(spec: IsolateSpec, request: RunRequest): Promise<IsolateRun> {
    let cold = false;
    const generation = this.generations.get(spec.key) ?? 0;
    const worker = this.loader.get(`${spec.key}~${generation}`, async () => {
      cold = true;
      const { mainModule, modules } = await spec.build();
      return {
        compatibilityDate: ISOLATE_COMPATIBILITY_DATE,
        compatibilityFlags: ["nodejs_compat"],
        mainModule,
        modules,
        env: {},
        globalOutbound: this.outbound(request.apiHost),
        limits: { cpuMs: spec.timeoutMs },
      };
    });
    try {
      const runner = worker.getEntrypoint<RunnerEntrypoint>("Runner");
      return { reply: (await runner.run(request)) as RunReply, cold };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (START_FAILURE.test(message)) throw new IsolateStartError(cleanStartError(message));
      throw err;
    }
  }

  discard(key: string): void {
    this.generations.set(key, (this.generations.get(key) ?? 0) + 1);
  }
}

/** "Failed to start Worker:\nUncaught SyntaxError: x\n  at action.js:1" → "SyntaxError: x\n  at action.js:1". */
function cleanStartError(message: string): string {
  return message.replace(START_FAILURE, "").replace(/^Uncaught\s+/, "");
}
