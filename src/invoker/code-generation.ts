// Whether action code may generate code from strings (eval, new Function)
// while it runs (CodeGeneration, src/ports/isolate-host.ts), decided once per
// host here; each isolate host translates the decision into its Worker
// Loader options, and the executor into the module set
// (docs/compatibility.md, Actions: "code generation from strings").
//
// - `native`: granted per action isolate through workerd's
//   `allow_insecure_inefficient_logged_eval` flag, as OpenWhisk's Node.js
//   runtime allows it; the worker that loads the isolates never gets it.
// - `precompiled`: the runtime refuses it once the isolate has started.
//   Function sources the action's code carries as string literals are
//   compiled while the isolate starts (when workerd still allows it), and a
//   shimmed eval/Function returns them for exactly those strings
//   (src/runtime/precompiled-eval.ts); any other string still fails with
//   the runtime's EvalError.
import type { CodeGeneration } from "../ports/isolate-host.js";

/** What each host grants its action isolates. */
export const HOST_CODE_GENERATION = {
  /**
   * Deployed Workers cannot pass experimental compatibility flags to the
   * Worker Loader, so no Cloudflare isolate may eval at run time; `npm start`
   * runs its isolates in local workerd children but behaves as deployed.
   */
  cloudflare: "precompiled",
  /** The Kubernetes host runs its own workerd, which may grant it. */
  node: "native",
} as const satisfies Record<string, CodeGeneration>;

/** The Worker Loader options an action isolate is loaded with, besides its code. */
export interface IsolateLoaderFlags {
  compatibilityFlags: string[];
  /** Needed for an experimental flag; the loading worker must itself run with the `experimental` flag. */
  allowExperimental?: true;
}

/** Compatibility flags every action isolate runs with, on every host. */
const BASE_FLAGS = ["nodejs_compat"];

/** workerd's per-isolate grant of eval and new Function during requests (an experimental flag). */
export const EVAL_ALWAYS_FLAG = "allow_insecure_inefficient_logged_eval";

/** How an invoker sets action isolates up for it: precompiling needs the isolate's shim (src/runtime/isolate/precompiled-eval.js) as text. */
export type CodeGenerationSetup = { mode: "native" } | { mode: "precompiled"; shimSource: string };

/**
 * Loader options for an isolate; one whose host said nothing gets no code
 * generation at run time. A Python isolate (`set.python`) gets no flag: under
 * nodejs_compat Pyodide's Emscripten takes its Node code paths and fails to boot.
 */
export function isolateLoaderFlags(codeGeneration: CodeGeneration = "precompiled", set: { python?: true } = {}): IsolateLoaderFlags {
  if (set.python) return { compatibilityFlags: [] };
  if (codeGeneration === "native") return { compatibilityFlags: [...BASE_FLAGS, EVAL_ALWAYS_FLAG], allowExperimental: true };
  return { compatibilityFlags: [...BASE_FLAGS] };
}
