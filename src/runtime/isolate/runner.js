// The main module of every action isolate (Worker Loader on Cloudflare,
// self-hosted workerd on Kubernetes). It ships as source text beside the
// user's code, so it stays plain JavaScript that imports nothing but the
// action module and node built-ins available under nodejs_compat.
//
// It reproduces what the stock OpenWhisk Node.js runtime answers, so results
// and error texts match: see docs/compatibility.md.
//
// Protocol (see src/runtime/protocol.ts): RPC `Runner.run(RunRequest)`
// answering a RunReply, or the same as JSON over POST to the default export.
import { WorkerEntrypoint } from "cloudflare:workers";
import { AsyncLocalStorage } from "node:async_hooks";

// The same object `node:process` exports (what an action's own import or
// require gets), taken from the global: importing the module costs a new
// isolate about 2 ms more to start (bare workerd, November 2026).
const process = globalThis.process;
const getBuiltinModule = process.getBuiltinModule.bind(process);

// What belongs to one activation: its log sink and its __OW_* values. An
// isolate may serve several activations of its namespace at once (limits.
// concurrency), so neither may live in a global.
const activationContext = new AsyncLocalStorage();
const encoder = new TextEncoder();

class LogSink {
  constructor(limitBytes) {
    this.limitBytes = limitBytes;
    this.bytes = 0;
    this.lines = [];
    this.truncated = false;
  }
  // The limit counts the lines as stored, time and stream prefix included,
  // so a record's logs never outgrow it whatever the lines' lengths.
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

// A line as console.log writes it: node:util's format, the stock runtime's.
// Loaded at the first line that needs it, not when the isolate starts (it
// cost a new isolate about a sixth of its start, bare workerd, November
// 2026); strings alone, the first without a % directive, are what format
// makes of them: joined by spaces.
let utilFormat;
function formatLine(args) {
  if (!(typeof args[0] === "string" && args[0].includes("%")) && args.every((arg) => typeof arg === "string")) return args.join(" ");
  utilFormat ??= getBuiltinModule("node:util").format;
  return utilFormat(...args);
}

// Lines written outside any activation (module top level during init) go to
// the activation that triggered the init, which holds the context then.
for (const [method, stream] of [
  ["log", "stdout"],
  ["info", "stdout"],
  ["debug", "stdout"],
  ["trace", "stdout"],
  ["warn", "stderr"],
  ["error", "stderr"],
]) {
  const fallback = console[method].bind(console);
  console[method] = (...args) => {
    const sink = activationContext.getStore()?.sink;
    if (sink?.truncated) return;
    if (sink) sink.write(stream, formatLine(args));
    else fallback(...args);
  };
}

let handler;
let initError;
let initialization;

async function initialize(mainName) {
  try {
    const mod = await import("./action.js");
    const candidates = [mod[mainName], mod.default?.[mainName]];
    if (mainName === "main") candidates.push(mod.default);
    handler = candidates.find((f) => typeof f === "function");
    if (!handler) throw `Action entrypoint '${mainName}' is not a function.`;
  } catch (err) {
    console.error("Error during initialization:", err);
    initError = `Initialization has failed due to: ${err?.stack ? String(err.stack) : err}`;
  }
}

/** The __OW_* values of one activation, as the stock runtime sets them in its environment. */
function activationEnvironment(request) {
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

const isActivationKey = (key) => typeof key === "string" && key.startsWith("__OW_");

// process.env as each activation sees it: __OW_* names read and write the
// current activation's own values (kept in activationContext, so they follow
// it across awaits), everything else is the isolate's shared environment.
// Another activation running in the same isolate meanwhile never sees them.
const sharedEnv = process.env;
const scopedEnv = () => activationContext.getStore()?.env;
const activationEnv = new Proxy(sharedEnv, {
  get(target, key) {
    if (!isActivationKey(key)) return Reflect.get(target, key);
    return scopedEnv()?.[key];
  },
  set(target, key, value) {
    if (!isActivationKey(key)) return Reflect.set(target, key, value);
    const env = scopedEnv();
    if (env) env[key] = String(value);
    return true;
  },
  has(target, key) {
    if (!isActivationKey(key)) return Reflect.has(target, key);
    return Object.hasOwn(scopedEnv() ?? {}, key);
  },
  deleteProperty(target, key) {
    if (!isActivationKey(key)) return Reflect.deleteProperty(target, key);
    const env = scopedEnv();
    if (env) delete env[key];
    return true;
  },
  ownKeys(target) {
    const shared = Reflect.ownKeys(target).filter((key) => !isActivationKey(key));
    return [...shared, ...Object.keys(scopedEnv() ?? {})];
  },
  getOwnPropertyDescriptor(target, key) {
    if (!isActivationKey(key)) return Reflect.getOwnPropertyDescriptor(target, key);
    const env = scopedEnv();
    if (!env || !Object.hasOwn(env, key)) return undefined;
    return { value: env[key], writable: true, enumerable: true, configurable: true };
  },
  defineProperty(target, key, descriptor) {
    if (!isActivationKey(key)) return Reflect.defineProperty(target, key, descriptor);
    const env = scopedEnv();
    if (env && "value" in descriptor) env[key] = String(descriptor.value);
    return true;
  },
});
Object.defineProperty(process, "env", { value: activationEnv, writable: false, configurable: true, enumerable: true });

function setInitEnvironment(env) {
  for (const [key, value] of Object.entries(env ?? {})) {
    process.env[key] = value === null || typeof value !== "object" ? (value ? String(value) : "") : JSON.stringify(value);
  }
}

// Mirrors serialize-error, which the stock runtime applies to rejections.
function serializeError(value, seen = new WeakSet()) {
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value)) return "[Circular]";
  seen.add(value);
  const out = Array.isArray(value) ? [] : {};
  for (const key of Object.keys(value)) {
    const item = value[key];
    if (typeof item !== "function") out[key] = serializeError(item, seen);
  }
  if (value instanceof Error) {
    for (const key of ["name", "message", "stack", "code", "cause"]) {
      if (value[key] !== undefined && !(key in out)) out[key] = serializeError(value[key], seen);
    }
  }
  return out;
}

async function execute(request) {
  let result;
  try {
    result = handler(request.params);
  } catch (err) {
    console.error(err);
    return { outcome: "developer", message: `An error has occurred: ${err}` };
  }
  try {
    result = await result;
  } catch (err) {
    return { outcome: "result", result: { error: err ? serializeError(err) : {} } };
  }
  if (result === undefined) result = {};
  if (typeof result !== "object") {
    console.error(`Result must be of type object but has type "${typeof result}":`, result);
    return { outcome: "developer", message: "The action did not return a dictionary." };
  }
  try {
    return { outcome: "result", result: JSON.parse(JSON.stringify(result)) };
  } catch (err) {
    return { outcome: "developer", message: `An error has occurred: ${err}` };
  }
}

async function run(request) {
  // The isolate has started (this module is evaluated); the action's own
  // module is imported by the first activation, as OpenWhisk's /init.
  if (request.prepare) return { outcome: "prepared", logs: [], truncated: false };
  const sink = new LogSink(request.logLimitBytes);
  return activationContext.run({ sink, env: activationEnvironment(request) }, async () => {
    let initMs;
    if (!initialization) {
      const started = Date.now();
      setInitEnvironment(request.initEnv);
      initialization = initialize(request.mainName);
      await initialization;
      initMs = Date.now() - started;
    } else {
      await initialization;
    }
    const reply = (fields) => ({ ...fields, initMs, logs: sink.lines, truncated: sink.truncated });
    if (initError) return reply({ outcome: "init", message: initError });

    const runStarted = Date.now();
    let timer;
    const deadline = new Promise((resolve) => {
      timer = setTimeout(() => resolve({ outcome: "timeout" }), Math.max(0, request.deadline - Date.now()));
    });
    const outcome = await Promise.race([execute(request), deadline]);
    clearTimeout(timer);
    return reply({ ...outcome, runMs: Date.now() - runStarted });
  });
}

export class Runner extends WorkerEntrypoint {
  run(request) {
    return run(request);
  }
}

export default {
  async fetch(request) {
    const reply = await run(await request.json());
    return new Response(JSON.stringify(reply), { headers: { "content-type": "application/json" } });
  },
};
