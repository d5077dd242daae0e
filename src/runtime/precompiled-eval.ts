// The module set of a JavaScript action on a host that refuses code
// generation at run time (src/invoker/code-generation.ts): when its code
// carries function sources as literals, they travel as data in a module that
// the isolate evaluates first, compiling them while it starts
// (src/runtime/isolate/precompiled-eval.js).
import { findFunctionLiterals } from "./function-literals.js";
import type { ActionModules } from "./modules.js";

export const PRECOMPILED_MAIN_MODULE = "precompiled-main.js";

/**
 * `set` with the precompiled functions of `code` added and a main module that
 * installs them before the runner loads; `set` itself when `code` carries none.
 * `shimSource` is src/runtime/isolate/precompiled-eval.js as text.
 */
export function withPrecompiledFunctions(set: ActionModules, code: string, shimSource: string): ActionModules {
  const found = findFunctionLiterals(code);
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
