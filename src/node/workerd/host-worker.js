// The one worker of a supervised workerd child (see child.ts). It plays the
// part the invoker Durable Object plays on Cloudflare: load the action's
// module set into an isolate through the Worker Loader (warm per id) and call
// the runner in it (its Runner entrypoint, by RPC as on Cloudflare). Plain
// JavaScript: workerd loads it as it is.
//
// POST /run  {id, modules?, compatibilityDate, request} →
//   200 {reply, cold} | 409 {missing: true} | 422 {startError} | 500 {error}
// GET /ping → "ok" (the supervisor's sign that the event loop still turns)

const START_FAILURE = /^Failed to start Worker:\s*/;

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

async function run(body, env) {
  let cold = false;
  let missing = false;
  const worker = env.LOADER.get(body.id, async () => {
    cold = true;
    // The supervisor sends modules only for ids this child has not loaded;
    // an evicted isolate is rebuilt under a new id once it says so.
    if (!body.modules) {
      missing = true;
      throw new Error("module set needed");
    }
    return {
      compatibilityDate: body.compatibilityDate,
      compatibilityFlags: ["nodejs_compat"],
      mainModule: body.mainModule,
      modules: decodeModules(body.modules),
      env: {},
      // The isolate reaches the network (the platform's API host included)
      // but none of this worker's bindings.
      globalOutbound: env.OUTBOUND,
    };
  });
  try {
    const reply = await worker.getEntrypoint("Runner").run(body.request);
    return Response.json({ reply, cold });
  } catch (err) {
    if (missing) return Response.json({ missing: true }, { status: 409 });
    const message = err instanceof Error ? err.message : String(err);
    if (START_FAILURE.test(message)) {
      return Response.json({ startError: message.replace(START_FAILURE, "").replace(/^Uncaught\s+/, "") }, { status: 422 });
    }
    return Response.json({ error: message }, { status: 500 });
  }
}

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    if (pathname === "/ping") return new Response("ok");
    if (pathname === "/run" && request.method === "POST") return run(await request.json(), env);
    return new Response("not found", { status: 404 });
  },
};
