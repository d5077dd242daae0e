// What a Python isolate needs from the Cloudflare host besides its own
// module set (src/runtime/python/): the Pyodide files, which ride in the
// Worker bundle (wrangler.toml's rules; scripts/build-python.mjs prepares
// them), and the memory snapshot a new isolate starts from, which does not
// fit beside them under Cloudflare's script size limit.
//
// The snapshot is made on first use, inside this very runtime, by a maker
// isolate of the same runner (a snapshot made elsewhere may not restore),
// kept in memory, and shared through the PYTHON_SNAPSHOTS R2 bucket when
// one is bound, so that invokers in other isolates and later deployments of
// the same runner and Pyodide read it instead of making it again.
import lock from "../../node_modules/.cache/edgewhisk-python/pyodide-lock.json";
import pythonRunnerSource from "../runtime/isolate/python-runner.js";
import { sha256Hex } from "../core/digest.js";
import { ISOLATE_COMPATIBILITY_DATE } from "../invoker/worker-loader.js";
import { PYTHON_RUNNER_MODULE } from "../runtime/python/python-modules.js";

export { pythonRunnerSource };

/** What the Python runner's `run` takes on a cold isolate: a stream (gzip unless `gzip: false`) and the raw size. */
export interface PythonSnapshot {
  stream: ReadableStream<Uint8Array>;
  bytes: number;
  gzip?: boolean;
}

type PyodideModules = Record<string, WorkerLoaderModule | WebAssembly.Module>;
let pyodideFiles: Promise<PyodideModules> | undefined;

/**
 * The Pyodide modules of every Python isolate (PYODIDE_MODULE_NAMES),
 * imported on first use: a Worker isolate that never starts a Python action
 * never loads them (under vitest's workers pool every test file paid ~20 s
 * for them when they were imported statically).
 */
export function pyodideModules(): Promise<PyodideModules> {
  pyodideFiles ??= Promise.all([
    import("../../node_modules/.cache/edgewhisk-python/pyodide.mjs"),
    import("../../node_modules/.cache/edgewhisk-python/pyodide.asm.mjs"),
    import("../../node_modules/.cache/edgewhisk-python/pyodide.asm.wasm"),
    import("../../node_modules/.cache/edgewhisk-python/python_stdlib.zip"),
  ]).then(([loader, asm, wasm, stdlib]) => ({
    "pyodide.mjs": { js: loader.default },
    "pyodide.asm.mjs": { js: asm.default },
    "pyodide.asm.wasm": wasm.default,
    "python_stdlib.zip": { data: stdlib.default },
    "pyodide-lock.json": { json: lock },
  }));
  return pyodideFiles;
}

interface SnapshotMaker {
  makeSnapshot(): Promise<PythonSnapshot>;
}

/** A maker isolate may take this long: booting CPython without a snapshot takes seconds. */
const MAKER_CPU_MS = 60_000;

/**
 * The snapshot this Worker isolate holds (6 MB), shared by every invoker
 * object it runs: each action has an invoker object of its own, and one
 * snapshot per action would cost each action's first cold start seconds.
 */
let held: Promise<{ gzip: ArrayBuffer; bytes: number }> | undefined;

export class PythonRuntime {
  constructor(
    private readonly loader: WorkerLoader,
    private readonly bucket?: R2Bucket,
  ) {}

  /** The Pyodide modules a Python isolate's set is completed with. */
  modules(): Promise<PyodideModules> {
    return pyodideModules();
  }

  /** A fresh stream of the snapshot for one new isolate. */
  async snapshot(): Promise<PythonSnapshot> {
    held ??= this.fetchOrMake().catch((err) => {
      held = undefined;
      throw err;
    });
    const { gzip, bytes } = await held;
    return { stream: new Response(gzip).body!, bytes };
  }

  private async fetchOrMake(): Promise<{ gzip: ArrayBuffer; bytes: number }> {
    // Runner and Pyodide together decide what a snapshot holds.
    const key = `python-snapshot/${lock.info.python}-${(await sha256Hex(pythonRunnerSource)).slice(0, 16)}.gz`;
    const stored = await this.bucket?.get(key);
    if (stored) return { gzip: await stored.arrayBuffer(), bytes: Number(stored.customMetadata?.bytes) };
    const maker = this.loader.get(`python-snapshot-maker~${key}`, async () => ({
      compatibilityDate: ISOLATE_COMPATIBILITY_DATE,
      compatibilityFlags: [],
      mainModule: PYTHON_RUNNER_MODULE,
      modules: { [PYTHON_RUNNER_MODULE]: { js: pythonRunnerSource }, ...(await pyodideModules()) },
      env: {},
      globalOutbound: null,
      limits: { cpuMs: MAKER_CPU_MS },
    }));
    const { stream, bytes } = await maker.getEntrypoint<Rpc.WorkerEntrypointBranded & SnapshotMaker>("Runner").makeSnapshot();
    const gzip = await new Response(stream).arrayBuffer();
    await this.bucket?.put(key, gzip, { customMetadata: { bytes: String(bytes) } });
    return { gzip, bytes };
  }
}
