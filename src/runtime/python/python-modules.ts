// A Python action's module set. The runner (src/runtime/isolate/python-runner.js)
// is the main module and the action's code rides as a text (a script) or
// data (a zip) module; the Pyodide files it boots from are the same for
// every Python action, so the isolate host adds them itself
// (PYODIDE_MODULE_NAMES) rather than carry them with each set.
import { ArchiveError, assertPythonArchive } from "../archive.js";
import { base64ToBytes } from "../../core/base64.js";
import type { ActionModules, ModuleSource } from "../modules.js";

export const PYTHON_RUNNER_MODULE = "python-runner.js";

/** The modules every Python isolate imports besides its own set, added by the host (the last is the snapshot codec, src/runtime/isolate/python-snapshot.js). */
export const PYODIDE_MODULE_NAMES = ["pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json", "python-snapshot.js"] as const;

export interface PythonSource {
  code: string;
  /** base64 of a zip archive rather than a script. */
  binary: boolean;
}

/** What the Python runner imports for a script or an archive; a broken archive fails the init with its message. */
export function pythonActionModules(runnerSource: string, source: PythonSource): ActionModules {
  const runner: Record<string, ModuleSource> = { [PYTHON_RUNNER_MODULE]: { js: runnerSource } };
  const set = (action: Record<string, ModuleSource>): ActionModules => ({ mainModule: PYTHON_RUNNER_MODULE, modules: { ...runner, ...action }, python: true });
  if (!source.binary) return set({ "python-action.json": { json: { archive: false } }, "action.py": { text: source.code } });
  try {
    assertPythonArchive(source.code);
  } catch (err) {
    if (!(err instanceof ArchiveError)) throw err;
    // The runner answers it as the init's error, as a Node archive's is.
    return set({ "python-action.json": { json: { initError: err.message } } });
  }
  const bytes = base64ToBytes(source.code);
  return set({
    "python-action.json": { json: { archive: true } },
    "action.zip": { data: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer },
  });
}
