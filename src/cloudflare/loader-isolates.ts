// IsolateHost over the Worker Loader binding: one isolate per key, reused
// while warm. The isolate gets no bindings; on Cloudflare limits.cpuMs stops
// runaway code (local workerd does not enforce it).
import { IsolateStartError, type IsolateHost, type IsolateRun, type IsolateSpec } from "../invoker/isolates.js";
import type { RunReply, RunRequest } from "../runtime/protocol.js";

export const ISOLATE_COMPATIBILITY_DATE = "2026-08-01";
const START_FAILURE = /^Failed to start Worker:\s*/;

/** The RPC surface of src/runtime/isolate/runner.js. */
const MAX_RUNNERS = 64;
/** Keys retired at least once, remembered for their next generation. */
const MAX_GENERATIONS = 4_096;

type RunnerEntrypoint = Rpc.WorkerEntrypointBranded & { run(request: RunRequest): Promise<RunReply> };

export class LoaderIsolates implements IsolateHost {
  /** Keys retired after a timeout or failed start map to a fresh generation. */
  private readonly generations = new Map<string, number>();
  /** The runner entrypoints of isolates this invoker has loaded, by loader id. */
  private readonly runners = new Map<string, RunnerEntrypoint>();

  /** `outbound(apiHost)` is the gateway every outbound request of the isolate goes through. */
  constructor(
    private readonly loader: WorkerLoader,
    private readonly outbound: (apiHost: string) => Fetcher,
  ) {}

  async run(spec: IsolateSpec, request: RunRequest): Promise<IsolateRun> {
    let cold = false;
    // The gateway's API host is fixed when the isolate loads, so an isolate
    // serves one API host: the one its activations see as __OW_API_HOST.
    const id = `${spec.key}~${this.generations.get(spec.key) ?? 0}~${request.apiHost}`;
    const runner = this.runners.get(id) ?? this.load(id, spec, request, () => (cold = true));
    try {
      return { reply: (await runner.run(request)) as RunReply, cold };
    } catch (err) {
      this.runners.delete(id);
      const message = err instanceof Error ? err.message : String(err);
      if (START_FAILURE.test(message)) throw new IsolateStartError(cleanStartError(message));
      throw err;
    }
  }

  private load(id: string, spec: IsolateSpec, request: RunRequest, onBuild: () => void): RunnerEntrypoint {
    const worker = this.loader.get(id, async () => {
      onBuild();
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
    const runner = worker.getEntrypoint<RunnerEntrypoint>("Runner");
    if (this.runners.size >= MAX_RUNNERS) this.runners.delete(this.runners.keys().next().value!);
    this.runners.set(id, runner);
    return runner;
  }

  discard(key: string): void {
    const generation = (this.generations.get(key) ?? 0) + 1;
    this.generations.delete(key);
    // Bounded like the stubs: a key forgotten here restarts at generation 0,
    // which only matters if that old isolate is still loaded (long evicted by then).
    if (this.generations.size >= MAX_GENERATIONS) this.generations.delete(this.generations.keys().next().value!);
    this.generations.set(key, generation);
  }
}

/** "Failed to start Worker:\nUncaught SyntaxError: x\n  at action.js:1" → "SyntaxError: x\n  at action.js:1". */
function cleanStartError(message: string): string {
  return message.replace(START_FAILURE, "").replace(/^Uncaught\s+/, "");
}
