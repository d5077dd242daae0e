// IsolateHost over the Worker Loader binding: one isolate per key, reused
// while warm. The isolate gets no bindings; on Cloudflare limits.cpuMs stops
// runaway code (local workerd does not enforce it).
import type { IsolateHost, IsolateRun, IsolateSpec } from "../ports/isolate-host.js";
import { IsolateGenerations, ISOLATE_COMPATIBILITY_DATE, startErrorOf } from "../invoker/worker-loader.js";
import { isolateLoaderFlags } from "../invoker/code-generation.js";
import type { RunReply, RunRequest } from "../runtime/protocol.js";

/** Runner entrypoints kept; past this, the one loaded first is dropped. */
const MAX_RUNNERS = 64;

/** The RPC surface of src/runtime/isolate/runner.js. */
type RunnerEntrypoint = Rpc.WorkerEntrypointBranded & { run(request: RunRequest): Promise<RunReply> };

export class LoaderIsolates implements IsolateHost {
  private readonly generations = new IsolateGenerations();
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
    const id = this.generations.id(spec.key, request.apiHost);
    const runner = this.runners.get(id) ?? this.load(id, spec, request, () => (cold = true));
    try {
      return { reply: (await runner.run(request)) as RunReply, cold };
    } catch (err) {
      this.runners.delete(id);
      throw startErrorOf(err instanceof Error ? err.message : String(err)) ?? err;
    }
  }

  private load(id: string, spec: IsolateSpec, request: RunRequest, onBuild: () => void): RunnerEntrypoint {
    const worker = this.loader.get(id, async () => {
      onBuild();
      const { mainModule, modules } = await spec.build();
      return {
        compatibilityDate: ISOLATE_COMPATIBILITY_DATE,
        ...isolateLoaderFlags(spec.codeGeneration),
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
    this.generations.discard(key);
  }
}
