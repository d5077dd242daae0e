// Turns an action's code into the module set an isolate loads. User code must
// arrive as modules: isolates refuse eval/new Function.

export type ModuleSource = { js: string } | { cjs: string } | { text: string } | { json: unknown } | { data: ArrayBuffer };

export interface ActionModules {
  mainModule: string;
  modules: Record<string, ModuleSource>;
}

const ESM_SYNTAX = /^\s*(export\s+(default\b|async\s+function|function|const|let|var|class|\{|\*)|import\s*(\{|\*|[\w$]+\s*(,|from))|import\s*["'])/m;

/** True when the code uses ES module syntax at statement level. */
export function isEsModule(code: string): boolean {
  return ESM_SYNTAX.test(code);
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * Plain scripts (`function main(){}`) and CommonJS both load as a CommonJS
 * module; a function declared at top level under the main name is exported
 * when the module did not export one itself, as the stock runtime finds it.
 */
function asCommonJs(code: string, mainName: string): string {
  if (!IDENTIFIER.test(mainName)) return code;
  const key = JSON.stringify(mainName);
  return `${code}
;if (typeof ${mainName} === "function") { const e = module.exports; if (e === null || (typeof e !== "object" && typeof e !== "function")) module.exports = { [${key}]: ${mainName} }; else if (!(${key} in e)) e[${key}] = ${mainName}; }
`;
}


export function actionModules(runnerSource: string, code: string, mainName: string): ActionModules {
  const action: ModuleSource = isEsModule(code) ? { js: code } : { cjs: asCommonJs(code, mainName) };
  return { mainModule: "runner.js", modules: { "runner.js": { js: runnerSource }, "action.js": action } };
}
