// Turns an action's code into the module set an isolate loads. User code must
// arrive as modules: isolates refuse eval/new Function.

import { ArchiveError, archiveModules, type ArchiveModules } from "./archive.js";
import { isPythonKind } from "../core/kinds.js";
import { pythonActionModules } from "./python/python-modules.js";

export type ModuleSource = { js: string } | { cjs: string } | { text: string } | { json: unknown } | { data: ArrayBuffer };

export interface ActionModules {
  mainModule: string;
  modules: Record<string, ModuleSource>;
  /** A Python isolate: its host adds the Pyodide modules and leaves nodejs_compat off (src/runtime/python/). */
  python?: true;
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


/** Packages the stock Node.js runtime preinstalls (`openwhisk`): CommonJS source by module name. */
export type PreinstalledPackages = Readonly<Record<string, string>>;

const quoted = (name: string) => new RegExp(`["']${name.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}["']`);

/** The preinstalled packages a script names, as root modules its `require`/`import` finds by name. */
function preinstalledModules(names: Iterable<string>, preinstalled: PreinstalledPackages): Record<string, ModuleSource> {
  return Object.fromEntries([...names].map((name) => [name, { cjs: preinstalled[name]! }]));
}

export interface ActionSource {
  code: string;
  /** base64 of a zip archive rather than a script. */
  binary: boolean;
  /** `exec.main`, defaulting to "main". */
  main: string;
  /** `exec.kind`; a Python kind gets the Python runner's set. */
  kind?: string;
}

/**
 * The isolate's modules: the runner, and `action.js` exporting the user's
 * code. A zip's files are mounted under `action/`, with `action.js`
 * re-exporting its entry; the answer also says which function to call.
 */
export function actionModules(
  runnerSource: string,
  source: ActionSource,
  preinstalled: PreinstalledPackages = {},
  pythonRunnerSource?: string,
): ActionModules & { mainName: string } {
  if (source.kind !== undefined && isPythonKind(source.kind)) {
    if (pythonRunnerSource === undefined) throw new Error("this invoker was given no Python runner");
    return { ...pythonActionModules(pythonRunnerSource, source), mainName: source.main };
  }
  const runner = { "runner.js": { js: runnerSource } };
  if (!source.binary) {
    const action: ModuleSource = isEsModule(source.code) ? { js: source.code } : { cjs: asCommonJs(source.code, source.main) };
    const named = Object.keys(preinstalled).filter((name) => quoted(name).test(source.code));
    return {
      mainModule: "runner.js",
      modules: { ...runner, ...preinstalledModules(named, preinstalled), "action.js": action },
      mainName: source.main,
    };
  }
  let archive: ArchiveModules;
  try {
    archive = archiveModules(source.code, source.main, Object.keys(preinstalled));
  } catch (err) {
    if (!(err instanceof ArchiveError)) throw err;
    // Surfaces as OpenWhisk's "Initialization has failed due to: <message>".
    return { mainModule: "runner.js", modules: { ...runner, "action.js": { js: `throw ${JSON.stringify(err.message)};` } }, mainName: source.main };
  }
  const entry: ModuleSource = archive.entryIsEsm
    ? { js: `export * from "./${archive.entry}";\nimport * as entry from "./${archive.entry}";\nexport default entry.default;` }
    : { cjs: `module.exports = require("./${archive.entry}");` };
  return {
    mainModule: "runner.js",
    modules: { ...runner, ...preinstalledModules(archive.preinstalled, preinstalled), ...archive.modules, "action.js": entry },
    mainName: archive.mainName,
  };
}

/** The function the runner calls: for a zip, `exec.main` may be `module.fn`. */
export function entryFunctionName(main: string, binary: boolean): string {
  const dot = main.indexOf(".");
  return binary && dot >= 0 ? main.slice(dot + 1) : main;
}
