// The module set of a JavaScript action on a host that refuses code
// generation at run time (src/invoker/code-generation.ts): when its code
// carries function sources as literals, they travel as data in a module that
// the isolate evaluates first, compiling them while it starts
// (src/runtime/isolate/precompiled-eval.js).
import { ExpiringCache } from "../core/cache.js";
import { findFunctionLiterals, type FunctionLiterals } from "./function-literals.js";
import type { ActionModules } from "./modules.js";

export const PRECOMPILED_MAIN_MODULE = "precompiled-main.js";

/**
 * The function literals of code, by its digest: every isolate of the same
 * code (other namespaces, concurrent slots, the next generation) would
 * otherwise read it again.
 */
export class FunctionLiteralsByDigest {
  private readonly found = new ExpiringCache<FunctionLiterals>(60 * 60_000, 64);

  of(code: string, digest: string | undefined): FunctionLiterals {
    const cached = digest === undefined ? undefined : this.found.get(digest);
    if (cached) return cached;
    const found = findFunctionLiterals(code);
    if (digest !== undefined) this.found.set(digest, found);
    return found;
  }
}

/**
 * `set` with the precompiled functions `found` in its code added and a main
 * module that installs them before the runner loads; `set` itself when there
 * are none. `shimSource` is src/runtime/isolate/precompiled-eval.js as text.
 */
export function withPrecompiledFunctions(set: ActionModules, found: FunctionLiterals, shimSource: string): ActionModules {
  if (found.expressions.length === 0 && found.functionCalls.length === 0) return set;
  const main = JSON.stringify(`./${set.mainModule}`);
  return {
    mainModule: PRECOMPILED_MAIN_MODULE,
    modules: {
      ...set.modules,
      "precompiled-eval.js": { js: shimSource },
      // The sources are data (JSON), never spliced into code.
      "precompiled-functions.js": {
        js: `import { installPrecompiledEval } from "./precompiled-eval.js";\ninstallPrecompiledEval(${JSON.stringify(found)});\n`,
      },
      // Imports evaluate in order: the functions are installed before the runner (and the action it loads) run.
      [PRECOMPILED_MAIN_MODULE]: {
        js: `import "./precompiled-functions.js";\nexport * from ${main};\nexport { default } from ${main};\n`,
      },
    },
  };
}
