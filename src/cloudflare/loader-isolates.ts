// IsolateHost over the Worker Loader binding: one isolate per key, reused
// while warm. The isolate gets no bindings; on Cloudflare limits.cpuMs stops
// runaway code (local workerd does not enforce it).
import type { IsolateHost, IsolateRun, IsolateSpec } from "../ports/isolate-host.js";
import { IsolateGenerations, ISOLATE_COMPATIBILITY_DATE, startErrorOf } from "../invoker/worker-loader.js";
import { isolateLoaderFlags } from "../invoker/code-generation.js";
import type { RunReply, RunRequest } from "../runtime/protocol.js";
import type { PythonSnapshot, PythonRuntime } from "./python-isolates.js";

/** Runner entrypoints kept; past this, the one loaded first is dropped. */
const MAX_RUNNERS = 64;

/**
 * The RPC surface of src/runtime/isolate/runner.js, and of python-runner.js,
 * whose cold isolate first asks for its memory snapshot.
 */
type RunnerEntrypoint = Rpc.WorkerEntrypointBranded & {
  run(request: RunRequest, snapshot?: PythonSnapshot | null): Promise<RunReply | { needsSnapshot: true }>;
};

export class LoaderIsolates implements IsolateHost {
  private readonly generations = new IsolateGenerations();
  /** The runner entrypoints of isolates this invoker has loaded, by loader id. */
  private readonly runners = new Map<string, RunnerEntrypoint>();

  /** `outbound(apiHost)` is the gateway every outbound request of the isolate goes through. */
  /** `python` gives Python isolates their Pyodide modules and memory snapshot (src/cloudflare/python-isolates.ts). */
  constructor(
    private readonly loader: WorkerLoader,
    private readonly outbound: (apiHost: string) => Fetcher,
    private readonly pythonFiles?: PythonRuntime,
  ) {}

  private python(): PythonRuntime {
    if (!this.pythonFiles) throw new Error("this invoker was given no Python runtime");
    return this.pythonFiles;
  }

  async run(spec: IsolateSpec, request: RunRequest): Promise<IsolateRun> {
    let cold = false;
    // The gateway's API host is fixed when the isolate loads, so an isolate
    // serves one API host: the one its activations see as __OW_API_HOST.
    const id = this.generations.id(spec.key, request.apiHost);
    const runner = this.runners.get(id) ?? this.load(id, spec, request, () => (cold = true));
    try {
      let reply = await runner.run(request);
      if ("needsSnapshot" in reply) reply = await runner.run(request, await this.python().snapshot());
      return { reply: reply as RunReply, cold };
    } catch (err) {
      this.runners.delete(id);
      throw startErrorOf(err instanceof Error ? err.message : String(err)) ?? err;
    }
  }

  private load(id: string, spec: IsolateSpec, request: RunRequest, onBuild: () => void): RunnerEntrypoint {
    const worker = this.loader.get(id, async () => {
      onBuild();
      const set = await spec.build();
      return {
        compatibilityDate: ISOLATE_COMPATIBILITY_DATE,
        ...isolateLoaderFlags(spec.codeGeneration, set),
        mainModule: set.mainModule,
        modules: set.python ? { ...set.modules, ...(await this.python().modules()) } : set.modules,
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
