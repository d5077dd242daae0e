// The main module of every Python action isolate: boots CPython (Pyodide,
// from modules the host adds: src/runtime/python/pyodide-modules.ts) and runs
// the action's main(args) as OpenWhisk's Python runtime (the actionloop
// launcher) does, so results and error texts match: docs/compatibility.md.
//
// Protocol: RPC `Runner.run(RunRequest, snapshot?)` answering a RunReply,
// like src/runtime/isolate/runner.js, with one step more on a cold isolate:
// it answers `{needsSnapshot: true}` until the host passes `snapshot`, a
// memory snapshot made inside workerd and packed (python-snapshot.js):
// `{packed}` (its bytes) or `{stream, gzip}`; or `null` to boot without one
// (seconds slower). `Runner.makeSnapshot()` boots plainly and answers a
// snapshot (an invoker on first use; GET /snapshot answers it unzipped for
// scripts/build-python.mjs).
//
// No nodejs_compat here: under it Emscripten takes its Node code paths.
// Python runs synchronously on the isolate's one thread, so two
// activations of a warm isolate never interleave inside main(): each sees
// only its own __OW_* values in os.environ, set before main and removed after.
import { WorkerEntrypoint } from "cloudflare:workers";
import { loadPyodide } from "./pyodide.mjs";
import createPyodideModule from "./pyodide.asm.mjs";
import pyodideWasm from "./pyodide.asm.wasm";
import stdlibZip from "./python_stdlib.zip";
import pyodideLock from "./pyodide-lock.json";
import { bytesReader, packSnapshot, pourSnapshot, readSnapshotFront } from "./python-snapshot.js";

const encoder = new TextEncoder();
const BOOT_ORIGIN = "https://pyodide.invalid/";
/** Modules imported before a snapshot is taken (with LAUNCHER defined), so that every isolate starts with them loaded. */
const PRELOADED = "import sys, os, io, json, traceback, ast, zipfile, logging, re, datetime, hashlib, base64, urllib.parse, encodings.idna";

// The same log line format and limit as runner.js's LogSink.
class LogSink {
  constructor(limitBytes) {
    this.limitBytes = limitBytes;
    this.bytes = 0;
    this.lines = [];
    this.truncated = false;
  }
  write(stream, text) {
    if (this.truncated) return;
    const prefix = `${new Date().toISOString()} ${stream}: `;
    for (const line of String(text).split("\n")) {
      const stored = prefix + line;
      const size = encoder.encode(stored).length;
      if (this.bytes + size > this.limitBytes) {
        this.truncated = true;
        return;
      }
      this.bytes += size;
      this.lines.push(stored);
    }
  }
}

/** Where print() and logging go: the activation running Python now (one at a time). */
let currentSink;

// The launcher of OpenWhisk's Python runtime, in this isolate: the action's
// files live under /action (the working directory, first on sys.path) with
// the entry renamed main__.py; a virtualenv/ is activated as the stock one is.
const LAUNCHER = String.raw`
import sys, os, io, json, ast, traceback, zipfile, importlib

class _InitFailed(Exception):
    pass

def _write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)

def _activate_virtualenv():
    venv = os.path.abspath("./virtualenv")
    if not os.path.isdir(venv):
        return
    activate = venv + "/bin/activate_this.py"
    if not os.path.exists(activate):
        activate = venv + "/Scripts/activate_this.py"
    if not os.path.exists(activate):
        sys.stderr.write("Invalid virtualenv. Zip file does not include 'activate_this.py'.\n")
        raise _InitFailed()
    with open(activate) as f:
        exec(compile(f.read(), activate, "exec"), dict(__file__=activate))

def _load(source, archive, main_name, init_env):
    """(main function, None) or (None, the init error OpenWhisk reports)."""
    os.makedirs("/action", exist_ok=True)
    os.chdir("/action")
    if archive is not None:
        zipfile.ZipFile(io.BytesIO(archive.to_bytes())).extractall("/action")
        for name in ("exec", "__main__.py"):
            if os.path.exists(name):
                os.rename(name, "main__.py")
                break
    else:
        _write("/action/main__.py", source.encode("utf-8"))
    for key, value in init_env.items():
        os.environ[key] = value
    if "/action" not in sys.path:
        sys.path.insert(0, "/action")
    # The stock builder checks that the entry exists and parses; what it
    # writes then is the init error.
    try:
        _activate_virtualenv()
    except _InitFailed:
        return None, "cannot start action: Command exited abruptly during initialization."
    except Exception:
        traceback.print_exc(file=sys.stderr, limit=0)
        return None, "cannot start action: Command exited abruptly during initialization."
    spec = importlib.util.find_spec("main__")
    if spec is None:
        return None, "Zip file does not include main__\n"
    try:
        with open(spec.origin, "rb") as f:
            ast.parse(f.read().decode("utf-8"))
    except SyntaxError as er:
        return None, er.msg
    try:
        module = importlib.import_module("main__")
        return getattr(module, main_name), None
    except BaseException:
        traceback.print_exc(file=sys.stderr)
        return None, "cannot start action: Command exited abruptly during initialization."

_main = None

def _init(source, archive, main_name, init_env_json):
    global _main
    _main, error = _load(source, archive, main_name, json.loads(init_env_json))
    sys.stdout.flush()
    sys.stderr.flush()
    return error

def _activation_keys():
    return [key for key in os.environ if key.startswith("__OW_")]

def _run(args_json, env_json):
    """The result's JSON, or None when the stock launcher would have died."""
    for key in _activation_keys():
        del os.environ[key]
    os.environ.update(json.loads(env_json))
    try:
        try:
            result = _main(json.loads(args_json))
        except Exception as ex:
            print(traceback.format_exc(), file=sys.stderr)
            result = {"error": str(ex)}
        return json.dumps(result, ensure_ascii=False)
    except BaseException:
        traceback.print_exc(file=sys.stderr)
        return None
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        for key in _activation_keys():
            del os.environ[key]
`;

/**
 * Pyodide believes it runs in a browser: it resolves URLs against
 * `location`, fetches the stdlib (served here from the data module) and
 * the wasm (never read: instantiateWasm below uses the host's compiled
 * module), and Emscripten wants setImmediate (without it, it falls back to
 * an addEventListener form workerd refuses). fetch is restored after boot.
 */
async function withBootShims(boot) {
  globalThis.location ??= new URL(BOOT_ORIGIN);
  if (typeof globalThis.setImmediate === "undefined") {
    globalThis.setImmediate = (fn, ...args) => setTimeout(fn, 0, ...args);
    globalThis.clearImmediate = (id) => clearTimeout(id);
  }
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (input) => {
    const url = input instanceof Request ? input.url : String(input);
    if (url.endsWith("/python_stdlib.zip")) return new Response(stdlibZip);
    if (url.endsWith("/pyodide.asm.wasm")) return new Response(new Uint8Array(0));
    return new Response("offline", { status: 404 });
  };
  try {
    return await boot();
  } finally {
    globalThis.fetch = realFetch;
  }
}

/** Emscripten's instantiation from the host's precompiled module: isolates may not compile wasm from bytes. */
function instantiateWasm(imports, success) {
  // jsverror.wasm would be compiled from bytes: pyodide's symbol-marker fallback instead.
  const marker = Symbol("error marker");
  imports.env.Jsv_GetError_import = () => marker;
  imports.env.JsvError_Check = (value) => value === marker;
  WebAssembly.instantiate(pyodideWasm, imports).then((instance) => success(instance, pyodideWasm));
  return {};
}

/** A reader of the packed snapshot (python-snapshot.js) however the host hands it over. */
function snapshotReader(snapshot) {
  if (snapshot.packed) return bytesReader(new Uint8Array(snapshot.packed));
  return (snapshot.gzip ? snapshot.stream.pipeThrough(new DecompressionStream("gzip")) : snapshot.stream).getReader();
}

/** A running interpreter: from the packed snapshot when given, else booted from scratch. */
async function bootPython({ snapshot, makeSnapshot = false }) {
  let restore;
  if (snapshot) {
    const reader = snapshotReader(snapshot);
    restore = { front: await readSnapshotFront(reader), reader };
  }
  const py = await withBootShims(() =>
    loadPyodide({
      indexURL: BOOT_ORIGIN,
      packageBaseUrl: BOOT_ORIGIN,
      lockFileContents: pyodideLock,
      // Only the header: pyodide then copies nothing, and pourSnapshot fills memory.
      ...(restore ? { _loadSnapshot: restore.front.header } : {}),
      ...(makeSnapshot ? { _makeSnapshot: true } : {}),
      createPyodideModule: (settings) => {
        settings.instantiateWasm = instantiateWasm;
        if (!restore) return createPyodideModule(settings);
        settings.INITIAL_MEMORY = restore.front.memoryBytes;
        return createPyodideModule(settings).then(async (module) => {
          await pourSnapshot(module.HEAPU8, restore.front, restore.reader);
          return module;
        });
      },
    }),
  );
  // pyodide keeps its config alive; the header need not stay.
  py._api.config._loadSnapshot = undefined;
  // A snapshot holds both already (compiling the launcher costs a cold start 0.1-0.3 s).
  if (!restore) py.runPython(`${PRELOADED}\n${LAUNCHER}`);
  return py;
}

function actionEnvironment(request) {
  const values = {
    __OW_API_HOST: request.apiHost,
    __OW_NAMESPACE: request.namespace,
    __OW_ACTION_NAME: request.actionName,
    __OW_ACTION_VERSION: request.actionVersion,
    __OW_ACTIVATION_ID: request.activationId,
    __OW_TRANSACTION_ID: request.transactionId,
    __OW_DEADLINE: String(request.deadline),
  };
  for (const key of Object.keys(values)) values[key] ??= "";
  if (request.apiKey) values.__OW_API_KEY = request.apiKey;
  return values;
}

/** Init parameters become environment variables, as runner.js sets them. */
function initEnvironment(env) {
  return Object.fromEntries(
    Object.entries(env ?? {}).map(([key, value]) => [
      key,
      value === null || typeof value !== "object" ? (value ? String(value) : "") : JSON.stringify(value),
    ]),
  );
}

/**
 * The action's code: `action.py` (a script) or `action.zip` (an archive), per
 * python-action.json; modules of this isolate, or, in a spare, the same
 * modules as the host passed them to `run` (`given`).
 */
async function actionCode(given) {
  const action = given ? given["python-action.json"].json : (await import("./python-action.json")).default;
  if (action.initError !== undefined) return { initError: action.initError };
  if (action.archive) return { source: undefined, archive: new Uint8Array(given ? given["action.zip"].data : (await import("./action.zip")).default) };
  return { source: given ? given["action.py"].text : (await import("./action.py")).default, archive: undefined };
}

let ready;
/** A spare's interpreter, booted by `prepare` before any action was given to this isolate. */
let prepared;

/** Boots and loads the action once per isolate; the activation that does it gets the init's log lines. */
async function initialize(request, snapshot, sink, given) {
  const started = Date.now();
  const code = await actionCode(given);
  if (code.initError !== undefined) return { initError: code.initError, initMs: 0 };
  const py = await (prepared ?? bootPython({ snapshot }));
  const write = (stream) => (line) => currentSink?.write(stream, line);
  py.setStdout({ batched: write("stdout") });
  py.setStderr({ batched: write("stderr") });
  const launcher = { init: py.globals.get("_init"), run: py.globals.get("_run") };
  const { source, archive } = code;
  // Synchronous from here: what the action's top level prints is this activation's.
  currentSink = sink;
  try {
    const initError = launcher.init(source, archive, request.mainName, JSON.stringify(initEnvironment(request.initEnv)));
    return { launcher, initError: initError ?? undefined, initMs: Date.now() - started };
  } finally {
    currentSink = undefined;
  }
}

function execute(launcher, request) {
  const out = launcher.run(JSON.stringify(request.params ?? {}), JSON.stringify(actionEnvironment(request)));
  // The launcher died (a BaseException, a result json cannot write): the stock proxy answers so.
  if (out === undefined || out === null) return { outcome: "developer", message: "command exited" };
  let result;
  try {
    result = JSON.parse(out);
  } catch {
    // Python's json writes NaN and Infinity, which are no JSON: the stock proxy cannot read them either.
    return { outcome: "developer", message: "The action did not return a dictionary or array." };
  }
  if (result === null) return { outcome: "developer", message: `The action did not produce a valid JSON or JSON Array response: ${out}` };
  if (typeof result !== "object") return { outcome: "developer", message: "The action did not return a dictionary or array." };
  return { outcome: "result", result };
}

async function run(request, snapshot, given) {
  const sink = new LogSink(request.logLimitBytes);
  if (!ready) {
    if (snapshot === undefined && !prepared) return { needsSnapshot: true };
    ready = initialize(request, snapshot, sink, given);
  }
  let state;
  let initMs;
  try {
    state = await ready;
  } catch (err) {
    ready = undefined;
    throw err;
  }
  if (!state.reported) {
    state.reported = true;
    initMs = state.initMs;
  }
  const reply = (fields) => ({ ...fields, initMs, logs: sink.lines, truncated: sink.truncated });
  if (state.initError !== undefined) return reply({ outcome: "init", message: state.initError });
  if (Date.now() >= request.deadline) return reply({ outcome: "timeout" });
  const runStarted = Date.now();
  currentSink = sink;
  try {
    return reply({ ...execute(state.launcher, request), runMs: Date.now() - runStarted });
  } finally {
    currentSink = undefined;
  }
}

/** A memory snapshot of a freshly booted interpreter with PRELOADED imported, packed (python-snapshot.js). */
async function makeSnapshot() {
  const py = await bootPython({ makeSnapshot: true });
  return packSnapshot(py.makeMemorySnapshot());
}

export class Runner extends WorkerEntrypoint {
  /** `action`: the action's modules, for a spare (`prepare`) that was loaded without them. */
  run(request, snapshot, action) {
    return run(request, snapshot, action);
  }

  /**
   * Boots the interpreter from `snapshot` before any action is given: the
   * host keeps such a spare and gives it to the next new Python action,
   * whose first `run` then passes its modules. One action per isolate still:
   * `ready` is set once, by that first run.
   */
  async prepare(snapshot) {
    prepared ??= bootPython({ snapshot }).catch((err) => {
      prepared = undefined;
      throw err;
    });
    await prepared;
  }

  /** The packed snapshot as the Cloudflare host keeps it: a gzip stream. */
  async makeSnapshot() {
    const snapshot = await makeSnapshot();
    return { stream: new Blob([snapshot]).stream().pipeThrough(new CompressionStream("gzip")), gzip: true };
  }
}

export default {
  async fetch(request) {
    if (new URL(request.url).pathname === "/snapshot") return new Response(await makeSnapshot());
    return new Response("not found", { status: 404 });
  },
};
