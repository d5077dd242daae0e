// The architecture's own floor for bench/invoke.mjs: the least a warm
// blocking invoke must do on this design — Worker → invoker Durable Object →
// Worker Loader isolate running hello → a record put in the object's storage
// — with no auth, lookup, logs or D1. Served by wrangler dev like edgewhisk.
import { DurableObject } from "cloudflare:workers";

const HELLO = `import { WorkerEntrypoint } from "cloudflare:workers";
export class Runner extends WorkerEntrypoint { run(params) { return { payload: "Hello, " + (params.name || "World") + "!" }; } }
export default { fetch() { return new Response("runner"); } };`;

export class Invoker extends DurableObject {
  async invoke(params) {
    const worker = this.env.LOADER.get("hello", () => ({
      compatibilityDate: "2026-08-01",
      mainModule: "hello.js",
      modules: { "hello.js": HELLO },
      env: {},
    }));
    const result = await worker.getEntrypoint("Runner").run(params);
    this.ctx.storage.kv.put(crypto.randomUUID(), { result, at: Date.now() });
    return result;
  }
}

export default {
  async fetch(request, env) {
    if (request.method === "POST") await request.text();
    const stub = env.INVOKER.get(env.INVOKER.idFromName("hello"));
    return Response.json(await stub.invoke({}));
  },
};
