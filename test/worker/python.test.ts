// Python actions on the Cloudflare host: the invoker Durable Object loads
// them through the real Worker Loader with the bundled Pyodide files, and
// makes the memory snapshot on first use (the Worker's PYTHON_SNAPSHOTS is
// unbound here). Then the snapshot through a real R2 bucket
// (src/cloudflare/python-isolates.ts): the first cold start makes it and
// shares it there, a later one (a fresh Worker isolate's PythonRuntime)
// restores from it without making one, and an object that is not whole is
// never restored from: the runtime makes the snapshot again and the action
// runs. One file: each makes snapshots, seconds of CPU apiece, and beside
// each other they pushed a blocking invoke past its 60 s wait.
import { env } from "cloudflare:workers";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PythonRuntime, pythonRunnerSource, type PythonSnapshot } from "../../src/cloudflare/python-isolates.js";
import { ISOLATE_COMPATIBILITY_DATE } from "../../src/invoker/worker-loader.js";
import type { RunReply, RunRequest } from "../../src/runtime/protocol.js";
import { pythonActionModules } from "../../src/runtime/python/python-modules.js";
import { call, seedNamespaces } from "./helpers.js";

beforeAll(seedNamespaces);

const HELLO_PY = `import os
def main(args):
    print("hello from", os.environ["__OW_ACTION_NAME"])
    name = args.get("name", "stranger")
    return {"greeting": "Hello " + name, "body": "<h1>Hello " + name + "</h1>"}
`;

describe("Python actions on the Worker Loader", () => {
  it("runs a python:default action, records its logs, and serves it as a web action", { timeout: 120_000 }, async () => {
    const created = await call("PUT", "/api/v1/namespaces/_/actions/hello-py", {
      body: { exec: { kind: "python:default", code: HELLO_PY }, annotations: [{ key: "web-export", value: true }] },
    });
    expect(created.status).toBe(200);
    expect(created.body.exec.kind).toBe("python:3");

    const cold = await call("POST", "/api/v1/namespaces/_/actions/hello-py?blocking=true", { body: { name: "edge" } });
    expect(cold.status).toBe(200);
    expect(cold.body.response).toMatchObject({ status: "success", result: { greeting: "Hello edge" } });
    expect(cold.body.logs).toEqual([expect.stringMatching(/Z stdout: hello from \/guest\/hello-py$/)]);
    expect(cold.body.annotations).toContainEqual({ key: "initTime", value: expect.any(Number) });

    const web = await call("GET", "/api/v1/web/guest/default/hello-py.http?name=web", { auth: null });
    expect(web.status).toBe(200);
    expect(web.text).toBe("<h1>Hello web</h1>");

    const failing = await call("PUT", "/api/v1/namespaces/_/actions/fail-py", {
      body: { exec: { kind: "python:3.12", code: "def main(args):\n    return 'no dict'\n" } },
    });
    expect(failing.status).toBe(200);
    const failed = await call("POST", "/api/v1/namespaces/_/actions/fail-py?blocking=true", { body: {} });
    expect(failed.body.response).toMatchObject({
      status: "action developer error",
      result: { error: "The action did not return a dictionary or array." },
    });
  });
});

const bucket = env.TEST_PYTHON_SNAPSHOTS;
const GREET_PY = "def main(args):\n    return {'greeting': 'Hello ' + args.get('name', 'stranger')}\n";

type Runner = Rpc.WorkerEntrypointBranded & {
  run(request: RunRequest, snapshot?: PythonSnapshot | null): Promise<RunReply | { needsSnapshot: true }>;
};

/** The real loader, noting each snapshot maker isolate a runtime asks it for. */
function watchedLoader(): { loader: WorkerLoader; makers: string[] } {
  const makers: string[] = [];
  const loader = {
    get(id: string, code: () => Promise<WorkerLoaderWorkerCode>) {
      if (id.startsWith("python-snapshot-maker~")) makers.push(id);
      return env.LOADER.get(id, code);
    },
  } as WorkerLoader;
  return { loader, makers };
}

/** A new Python isolate started as the invoker starts one: its set, the runtime's modules, then its snapshot. */
async function coldHello(runtime: PythonRuntime): Promise<RunReply> {
  const set = pythonActionModules(pythonRunnerSource, { code: GREET_PY, binary: false });
  const worker = env.LOADER.get(`python-snapshots-test~${crypto.randomUUID()}`, async () => ({
    compatibilityDate: ISOLATE_COMPATIBILITY_DATE,
    compatibilityFlags: [],
    mainModule: set.mainModule,
    modules: { ...set.modules, ...(await runtime.modules()) },
    env: {},
    globalOutbound: null,
  }));
  const runner = worker.getEntrypoint<Runner>("Runner");
  const request: RunRequest = {
    params: { name: "r2" },
    initEnv: {},
    mainName: "main",
    activationId: "0".repeat(32),
    transactionId: "python-snapshots-test",
    namespace: "guest",
    actionName: "/guest/hello",
    actionVersion: "0.0.1",
    apiHost: "http://edgewhisk.test",
    deadline: Date.now() + 120_000,
    logLimitBytes: 1 << 20,
  };
  expect(await runner.run(request)).toEqual({ needsSnapshot: true });
  return (await runner.run(request, await runtime.snapshot())) as RunReply;
}

const hello = { outcome: "result", result: { greeting: "Hello r2" } };

describe("the Python snapshot in the PYTHON_SNAPSHOTS bucket", () => {
  let key: string;
  beforeEach(async () => {
    key = await PythonRuntime.bucketKey();
    await bucket.delete(key);
  });

  it("is made by the first cold start and written to the bucket; a fresh runtime restores from it without making one", { timeout: 300_000 }, async () => {
    const first = watchedLoader();
    expect(await coldHello(new PythonRuntime(first.loader, bucket, {}))).toMatchObject(hello);
    expect(first.makers).toHaveLength(1);
    const stored = await bucket.head(key);
    expect(stored?.size).toBeGreaterThan(1_000_000);
    expect(stored?.customMetadata?.sha256).toMatch(/^[0-9a-f]{64}$/);

    const later = watchedLoader();
    expect(await coldHello(new PythonRuntime(later.loader, bucket, {}))).toMatchObject(hello);
    expect(later.makers).toEqual([]);
  });

  it("is made again, and replaced in the bucket, when the object there is short or carries no digest", { timeout: 300_000 }, async () => {
    const maker = watchedLoader();
    expect(await coldHello(new PythonRuntime(maker.loader, bucket, {}))).toMatchObject(hello);
    const whole = await bucket.get(key);
    const bytes = new Uint8Array(await whole!.arrayBuffer());
    const digest = whole!.customMetadata!.sha256;

    // Cut short under the whole object's digest, as an interrupted copy would leave it.
    await bucket.put(key, bytes.subarray(0, bytes.length >> 1), { customMetadata: { sha256: digest } });
    const afterShort = watchedLoader();
    expect(await coldHello(new PythonRuntime(afterShort.loader, bucket, {}))).toMatchObject(hello);
    expect(afterShort.makers).toHaveLength(1);
    const replaced = await bucket.head(key);
    expect(replaced?.size).toBeGreaterThan(bytes.length >> 1);
    expect(replaced?.customMetadata?.sha256).toMatch(/^[0-9a-f]{64}$/);

    // Bytes of some other kind, with no digest at all.
    await bucket.put(key, new TextEncoder().encode("not a snapshot"));
    const afterForeign = watchedLoader();
    expect(await coldHello(new PythonRuntime(afterForeign.loader, bucket, {}))).toMatchObject(hello);
    expect(afterForeign.makers).toHaveLength(1);
  });
});
