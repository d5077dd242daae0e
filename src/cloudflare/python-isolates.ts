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
import pythonSnapshotSource from "../runtime/isolate/python-snapshot.js";
import { sha256Hex } from "../core/digest.js";
import { ISOLATE_COMPATIBILITY_DATE } from "../invoker/worker-loader.js";
import { PYTHON_RUNNER_MODULE } from "../runtime/python/python-modules.js";

export { pythonRunnerSource };

/**
 * What the Python runner's `run` takes on a cold isolate: the packed snapshot
 * (src/runtime/isolate/python-snapshot.js) as bytes, or as a stream, gzipped or not.
 */
export type PythonSnapshot = { packed: ArrayBuffer } | { stream: ReadableStream<Uint8Array>; gzip: boolean };

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
    "python-snapshot.js": { js: pythonSnapshotSource },
  }));
  return pyodideFiles;
}

interface SnapshotMaker {
  makeSnapshot(): Promise<{ stream: ReadableStream<Uint8Array> }>;
}

/** A maker isolate may take this long: booting CPython without a snapshot takes seconds. */
const MAKER_CPU_MS = 60_000;

/** The gzipped packed snapshot a Worker isolate holds (6 MB), once made or fetched. */
export interface HeldSnapshot {
  current?: Promise<ArrayBuffer>;
}

/**
 * The snapshot this Worker isolate holds, shared by every invoker object it
 * runs: each action has an invoker object of its own, and one snapshot per
 * action would cost each action's first cold start seconds.
 */
const held: HeldSnapshot = {};

async function sha256OfBytes(bytes: ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export class PythonRuntime {
  /** `cache` is where the snapshot is held: by default this Worker isolate's, shared by all its invokers. */
  constructor(
    private readonly loader: WorkerLoader,
    private readonly bucket?: R2Bucket,
    private readonly cache: HeldSnapshot = held,
  ) {}

  /** The Pyodide modules a Python isolate's set is completed with. */
  modules(): Promise<PyodideModules> {
    return pyodideModules();
  }

  /** A fresh stream of the snapshot for one new isolate. */
  async snapshot(): Promise<PythonSnapshot> {
    this.cache.current ??= this.fetchOrMake().catch((err) => {
      this.cache.current = undefined;
      throw err;
    });
    return { stream: new Response(await this.cache.current).body!, gzip: true };
  }

  /**
   * Where the snapshot is kept in the bucket: the runner, the codec and
   * Pyodide's build (its loader carries the build id a snapshot must match)
   * together decide what it holds.
   */
  static async bucketKey(): Promise<string> {
    const { default: pyodideLoader } = await import("../../node_modules/.cache/edgewhisk-python/pyodide.mjs");
    const digest = await sha256Hex(`${pyodideLoader}\n${pythonRunnerSource}\n${pythonSnapshotSource}`);
    return `python-snapshot/${lock.info.python}-${digest.slice(0, 16)}.gz`;
  }

  private async fetchOrMake(): Promise<ArrayBuffer> {
    const key = await PythonRuntime.bucketKey();
    const stored = await this.bucket?.get(key);
    if (stored) {
      // Trusted only whole: a short or altered object would restore a broken interpreter.
      const gzip = await stored.arrayBuffer();
      if (stored.customMetadata?.sha256 === (await sha256OfBytes(gzip))) return gzip;
      console.warn(`the Python snapshot ${key} in PYTHON_SNAPSHOTS does not match its digest: making it again`);
    }
    const maker = this.loader.get(`python-snapshot-maker~${key}`, async () => ({
      compatibilityDate: ISOLATE_COMPATIBILITY_DATE,
      compatibilityFlags: [],
      mainModule: PYTHON_RUNNER_MODULE,
      modules: { [PYTHON_RUNNER_MODULE]: { js: pythonRunnerSource }, ...(await pyodideModules()) },
      env: {},
      globalOutbound: null,
      limits: { cpuMs: MAKER_CPU_MS },
    }));
    const { stream } = await maker.getEntrypoint<Rpc.WorkerEntrypointBranded & SnapshotMaker>("Runner").makeSnapshot();
    const gzip = await new Response(stream).arrayBuffer();
    await this.bucket?.put(key, gzip, { customMetadata: { sha256: await sha256OfBytes(gzip) } });
    return gzip;
  }
}
