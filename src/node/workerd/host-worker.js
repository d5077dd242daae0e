// The one worker of a supervised workerd child (see child.ts). It plays the
// part the invoker Durable Object plays on Cloudflare: load the action's
// module set into an isolate through the Worker Loader (warm per id) and call
// the runner in it (its Runner entrypoint, by RPC as on Cloudflare). Plain
// JavaScript: workerd loads it as it is.
//
// POST /run  {id, modules?, python?, compatibilityDate, compatibilityFlags?, allowExperimental?, request} →
//   200 {reply, cold} | 409 {missing: true} | 500 {error}
// GET /ping → "ok" (the supervisor's sign that the event loop still turns)
//
// The supervisor chooses the isolate's id and compatibility date, and tells
// a failed start from another error (src/invoker/worker-loader.ts, shared
// with the Cloudflare host); none of that is decided again here.
//
// Every outbound request and socket of an isolate goes through its Gateway
// (its globalOutbound), as src/cloudflare/outbound-gateway.ts does on Cloudflare:
// requests to the action's API host go to the controllers (PLATFORM, the
// internal URL the operator configured), never to wherever the API host
// resolves, since it may come from a caller's Host header; everything else
// goes out through a network that admits only the public internet and what
// the operator opened (child.ts builds those services).
import { WorkerEntrypoint } from "cloudflare:workers";

/** A host as EGRESS_ALLOW names it: lower case, IPv6 in brackets. */
function canonicalHost(host) {
  const lower = host.toLowerCase();
  return lower.includes(":") && !lower.startsWith("[") ? `[${lower}]` : lower;
}

function sameOrigin(url, origin) {
  try {
    return url.origin === new URL(origin).origin;
  } catch {
    return false;
  }
}

export class Gateway extends WorkerEntrypoint {
  /** The network host:port is reached through: a destination the operator named, else the public internet. */
  network(host, port) {
    const named = this.env.DESTINATIONS ?? [];
    const key = canonicalHost(host);
    return named.includes(`${key}:${port}`) || named.includes(key) ? this.env.NAMED : this.env.INTERNET;
  }

  async fetch(request) {
    const url = new URL(request.url);
    // A redirect goes back to the action, and its next request through here.
    const forwarded = new Request(request, { redirect: "manual" });
    // The external service keeps the URL's host, so the API sees the host it was called by.
    if (this.env.PLATFORM && sameOrigin(url, this.ctx.props.apiHost)) return this.env.PLATFORM.fetch(forwarded);
    try {
      return await this.network(url.hostname, url.port || (url.protocol === "https:" ? "443" : "80")).fetch(forwarded);
    } catch (err) {
      // workerd tells the isolate only "internal error; reference = ..." for
      // an address its filter refuses (and for a name that does not resolve).
      if (!/^internal error/.test(String(err?.message))) throw err;
      throw new TypeError(
        `${url.origin} is not reachable from actions: a refused (loopback, private or reserved) address, or a name that does not resolve; actions may reach the public internet and their API host only`,
      );
    }
  }

  /**
   * Raw TCP from connect(): piped to the same destination through the same
   * network, so it reaches only what fetch() may. (workerd hands TLS sockets
   * to a gateway like this one no further: secureTransport "on" fails.)
   */
  async connect(socket) {
    const { localAddress } = await socket.opened;
    const at = localAddress.lastIndexOf(":");
    const host = localAddress.slice(0, at).replace(/^\[(.*)\]$/, "$1");
    const port = Number(localAddress.slice(at + 1));
    let upstream;
    try {
      upstream = this.network(host, port).connect({ hostname: host, port });
      await upstream.opened;
    } catch {
      // Refused: the action's next read or write fails; no byte went anywhere.
      await socket.close();
      return;
    }
    await Promise.allSettled([socket.readable.pipeTo(upstream.writable), upstream.readable.pipeTo(socket.writable)]);
    await Promise.allSettled([socket.close(), upstream.close()]);
  }
}

function decodeModules(modules) {
  const decoded = {};
  for (const [name, source] of Object.entries(modules)) {
    if (source && typeof source.base64 === "string") {
      decoded[name] = { data: Uint8Array.from(atob(source.base64), (c) => c.charCodeAt(0)).buffer };
    } else {
      decoded[name] = source;
    }
  }
  return decoded;
}

let pythonFiles;

/**
 * What every Python isolate gets from this worker, read from the build's
 * files (child.ts binds them as a read-only disk service) on its first
 * Python isolate and held: the Pyodide files and the snapshot codec, added to
 * the isolate's module set rather than sent, and the packed memory snapshot
 * (python-snapshot.js, 15 MB) each new one starts from. The wasm is the
 * module child.ts compiled into this worker: a loader given the module
 * shares its compiled code, one given bytes compiles them again for every
 * isolate (0.1-0.3 s each).
 */
function pythonRuntime(env) {
  const file = async (name) => {
    const res = await env.PYTHON_FILES.fetch(`http://files/${name}`);
    if (!res.ok) throw new Error(`Python file ${name}: ${res.status}`);
    return res;
  };
  pythonFiles ??= Promise.all([
    file("pyodide.mjs").then((res) => res.text()),
    file("pyodide.asm.mjs").then((res) => res.text()),
    import("./pyodide.asm.wasm"),
    file("python_stdlib.zip").then((res) => res.arrayBuffer()),
    file("pyodide-lock.json").then((res) => res.json()),
    file("python-snapshot.js").then((res) => res.text()),
    file("snapshot.bin").then((res) => res.arrayBuffer()),
  ]).then(
    ([loader, asm, wasm, stdlib, lock, codec, packed]) => ({
      modules: {
        "pyodide.mjs": { js: loader },
        "pyodide.asm.mjs": { js: asm },
        "pyodide.asm.wasm": wasm.default,
        "python_stdlib.zip": { data: stdlib },
        "pyodide-lock.json": { json: lock },
        "python-snapshot.js": { js: codec },
      },
      packed,
    }),
    (err) => {
      pythonFiles = undefined;
      throw err;
    },
  );
  return pythonFiles;
}

/**
 * A Python isolate booted ahead of its action (at most one per child, once
 * the child has run Python): the next new Python action is given to it, so
 * its cold start skips the interpreter's boot, and a new spare boots after
 * it. A spare serves the one action it is given and never another: it is
 * taken out before its first run, and its loader id is then that action's
 * isolate alone (`claimed`). It is given only to an action whose isolate it
 * matches: the same runner, flags and API host (its gateway's).
 */
let spare;
let sparesStarted = 0;
const SPARE_AFTER_MS = 50;
/** Action isolate ids served by a former spare → that spare's loader id. */
const claimed = new Map();
/** The most entries `claimed` keeps, the oldest going first. */
const CLAIMS_KEPT = 4_096;

const spareFit = (body, apiHost) =>
  JSON.stringify([apiHost, body.compatibilityDate, body.compatibilityFlags ?? null, body.mainModule, body.modules?.[body.mainModule]]);

function startSpare(body, env, ctx, apiHost) {
  if (spare) return Promise.resolve();
  const runnerModule = body.modules[body.mainModule];
  const worker = env.LOADER.get(`python-spare~${++sparesStarted}`, async () => ({
    compatibilityDate: body.compatibilityDate,
    compatibilityFlags: body.compatibilityFlags ?? [],
    mainModule: body.mainModule,
    modules: { [body.mainModule]: runnerModule, ...(await pythonRuntime(env)).modules },
    env: {},
    globalOutbound: ctx.exports.Gateway({ props: { apiHost } }),
  }));
  const entry = { id: `python-spare~${sparesStarted}`, fit: spareFit(body, apiHost) };
  entry.ready = pythonRuntime(env)
    .then(({ packed }) => worker.getEntrypoint("Runner").prepare({ packed }))
    .then(
      () => true,
      () => {
        if (spare === entry) spare = undefined;
        return false;
      },
    );
  spare = entry;
  return entry.ready;
}

function withoutMain(modules, mainModule) {
  const { [mainModule]: _main, ...rest } = modules;
  return rest;
}

/** The spare for this new Python isolate, taken out for good; undefined when there is none that fits. */
async function takeSpare(body, apiHost) {
  if (!body.python || !body.modules || !spare || spare.fit !== spareFit(body, apiHost)) return undefined;
  const taken = spare;
  spare = undefined;
  if (!(await taken.ready)) return undefined;
  claimed.set(body.id, taken.id);
  // Bounded: the supervisor never says when it drops an isolate id. An id
  // forgotten while still in use is only loaded afresh (the supervisor
  // sends its modules again when asked), never given another's isolate.
  if (claimed.size > CLAIMS_KEPT) claimed.delete(claimed.keys().next().value);
  return taken;
}

async function run(body, env, ctx) {
  let cold = false;
  let missing = false;
  // The gateway knows one API host, fixed when the isolate loads; the
  // supervisor gives a caller that came in on another its own isolate id.
  const apiHost = String(body.request?.apiHost ?? "");
  const taken = await takeSpare(body, apiHost);
  // A stub serves the request that made it only: the spare's is got again by its id.
  const load = () =>
    env.LOADER.get(claimed.get(body.id) ?? body.id, async () => {
      cold = true;
      // The supervisor sends modules only for ids this child has not loaded;
      // an evicted isolate is rebuilt under a new id once it says so.
      if (!body.modules) {
        missing = true;
        throw new Error("module set needed");
      }
      if (body.python && !env.PYTHON_FILES) throw new Error("Python actions need the files of `node scripts/build-python.mjs`, which this host lacks");
      const modules = decodeModules(body.modules);
      return {
        compatibilityDate: body.compatibilityDate,
        // Code generation for this isolate, as the supervisor decided (src/invoker/code-generation.ts).
        compatibilityFlags: body.compatibilityFlags ?? ["nodejs_compat"],
        ...(body.allowExperimental ? { allowExperimental: true } : {}),
        mainModule: body.mainModule,
        modules: body.python ? { ...modules, ...(await pythonRuntime(env)).modules } : modules,
        env: {},
        // The isolate reaches the network only through its gateway, and
        // none of this worker's bindings.
        globalOutbound: ctx.exports.Gateway({ props: { apiHost } }),
      };
    });
  try {
    const runner = load().getEntrypoint("Runner");
    // A spare was loaded without the action: its first run brings the action's modules.
    const action = taken ? withoutMain(decodeModules(body.modules), body.mainModule) : undefined;
    let reply = await runner.run(body.request, undefined, action);
    // A Python isolate's first run asks for its snapshot (src/runtime/isolate/python-runner.js).
    if (reply?.needsSnapshot) reply = await runner.run(body.request, { packed: (await pythonRuntime(env)).packed }, action);
    // This child runs Python: the next new Python action finds a spare.
    // After a pause: booting it takes this one thread for a few tenths of a
    // second, which at once would hold back the reply being written now.
    if (body.python && body.modules) ctx.waitUntil(scheduler.wait(SPARE_AFTER_MS).then(() => startSpare(body, env, ctx, apiHost)));
    return Response.json({ reply, cold: cold || taken !== undefined });
  } catch (err) {
    // A failed spare is not run again: the supervisor sends the set for a fresh isolate.
    if (taken) claimed.delete(body.id);
    if (missing) return Response.json({ missing: true }, { status: 409 });
    return Response.json({ error: err instanceof Error ? err.message : String(err) }, { status: 500 });
  }
}

export default {
  async fetch(request, env, ctx) {
    const { pathname } = new URL(request.url);
    if (pathname === "/ping") return new Response("ok");
    if (pathname === "/run" && request.method === "POST") return run(await request.json(), env, ctx);
    return new Response("not found", { status: 404 });
  },
};
