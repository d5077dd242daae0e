// Invoking actions: outcomes, logs, isolates and the queue path, against the
// real Worker, invoker DOs, Worker Loader isolates, D1 and Queues.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src/cloudflare/worker.js";
import { beforeAll, describe, expect, it } from "vitest";
import type { DispatchMessage } from "../../src/ports/dispatcher.js";
import { call, createAction, GUEST_KEY, HELLO_JS, seedNamespaces, store, waitForActivation } from "./helpers.js";

beforeAll(seedNamespaces);

const invoke = (name: string, query = "blocking=true", body?: unknown) =>
  call("POST", `/api/v1/namespaces/_/actions/${name}?${query}`, { body });

describe("blocking invokes", () => {
  it("answers the activation record of a successful run", async () => {
    await createAction("hello", HELLO_JS);
    const res = await invoke("hello", "blocking=true", { name: "Edge" });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-openwhisk-activation-id")).toBe(res.body.activationId);
    expect(res.body).toMatchObject({
      namespace: "guest",
      name: "hello",
      version: "0.0.1",
      subject: "guest",
      response: { status: "success", statusCode: 0, success: true, result: { payload: "Hello, Edge!" } },
      logs: [],
      publish: false,
    });
    expect(res.body.end - res.body.start).toBe(res.body.duration);
    const keys = res.body.annotations.map((a: { key: string }) => a.key);
    expect(keys).toEqual(expect.arrayContaining(["path", "kind", "limits", "waitTime", "timeout"]));
  });

  it("answers only the result with result=true", async () => {
    await createAction("hello2", HELLO_JS);
    const res = await invoke("hello2", "blocking=true&result=true", { name: "R" });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ payload: "Hello, R!" });
  });

  it("merges default parameters under the invocation's", async () => {
    await createAction("params", "function main(p) { return p }", {
      parameters: [
        { key: "a", value: "default" },
        { key: "b", value: "default" },
      ],
    });
    const res = await invoke("params", "blocking=true&result=true", { b: "given", c: 3 });
    expect(res.body).toEqual({ a: "default", b: "given", c: 3 });
  });

  it("runs CommonJS, ES modules, async mains and a custom main name", async () => {
    const cases: [string, string, Record<string, unknown>?][] = [
      ["cjs", "exports.main = (p) => ({ style: 'exports.main', p })"],
      ["cjs-fn", "module.exports = function (p) { return { style: 'module.exports' } }"],
      ["esm", "export function main(p) { return { style: 'esm' } }"],
      ["esm-default", "export default async function (p) { return { style: 'esm default' } }"],
      ["async", "async function main(p) { await new Promise(r => setTimeout(r, 5)); return { style: 'async' } }"],
      ["named", "function greet(p) { return { style: 'named' } }", { exec: { kind: "nodejs:20", code: "", main: "greet" } }],
    ];
    for (const [name, code, extra] of cases) {
      if (extra) {
        const res = await call("PUT", `/api/v1/namespaces/_/actions/${name}`, {
          body: { exec: { ...(extra.exec as object), code } },
        });
        expect(res.status).toBe(200);
      } else await createAction(name, code);
      const res = await invoke(name, "blocking=true&result=true");
      expect(res.status, `${name}: ${res.text}`).toBe(200);
      expect(res.body.style).toBeDefined();
    }
  });

  it("answers 502 with the record for an application error", async () => {
    await createAction("apperror", "function main() { return { error: 'bad input' } }");
    const res = await invoke("apperror");
    expect(res.status).toBe(502);
    expect(res.body.response).toEqual({
      status: "application error",
      statusCode: 1,
      success: false,
      result: { error: "bad input" },
    });
    const resultOnly = await invoke("apperror", "blocking=true&result=true");
    expect(resultOnly.status).toBe(502);
    expect(resultOnly.body).toEqual({ error: "bad input" });
  });

  it("treats a rejected promise as an application error carrying the serialized error", async () => {
    await createAction("rejects", "async function main() { throw new Error('nope') }");
    const res = await invoke("rejects");
    expect(res.status).toBe(502);
    expect(res.body.response.status).toBe("application error");
    expect(res.body.response.result.error).toMatchObject({ name: "Error", message: "nope" });
  });

  it("reports a thrown exception as an action developer error", async () => {
    await createAction("throws", "function main() { throw new Error('boom') }");
    const res = await invoke("throws");
    expect(res.status).toBe(502);
    expect(res.body.response).toEqual({
      status: "action developer error",
      statusCode: 2,
      success: false,
      result: { error: "An error has occurred: Error: boom" },
    });
    expect(res.body.logs.join("\n")).toContain("stderr: Error: boom");
  });

  it("reports a result that is not an object", async () => {
    await createAction("number", "function main() { return 42 }");
    const res = await invoke("number", "blocking=true&result=true");
    expect(res.status).toBe(502);
    expect(res.body).toEqual({ error: "The action did not return a dictionary." });
  });

  it("reports code that does not initialise, and a missing main", async () => {
    await createAction("syntax", "function main( { return {} }");
    const res = await invoke("syntax");
    expect(res.status).toBe(502);
    expect(res.body.response.status).toBe("action developer error");
    expect(res.body.response.result.error).toMatch(/^Initialization has failed due to: SyntaxError/);
    await createAction("nomain", "function other() { return {} }");
    const nomain = await invoke("nomain", "blocking=true&result=true");
    expect(nomain.body).toEqual({
      error: "Initialization has failed due to: Action entrypoint 'main' is not a function.",
    });
  });

  it("times out with OpenWhisk's message and does not reuse the isolate", async () => {
    await createAction(
      "sleeper",
      "let runs = 0; async function main(p) { runs++; if (p.hang) await new Promise(() => {}); return { runs } }",
      { limits: { timeout: 300 } },
    );
    const res = await invoke("sleeper", "blocking=true", { hang: true });
    expect(res.status).toBe(502);
    expect(res.body.response.result).toEqual({ error: "The action exceeded its time limits of 300 milliseconds." });
    expect(res.body.annotations).toContainEqual({ key: "timeout", value: true });
    const after = await invoke("sleeper", "blocking=true&result=true");
    expect(after.body).toEqual({ runs: 1 });
  });

  it("answers 202 with the activation id when the blocking wait runs out, and still records the activation", async () => {
    await createAction("slow", "async function main() { await new Promise(r => setTimeout(r, 400)); return { done: true } }");
    const res = await invoke("slow", "blocking=true&timeout=50");
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ activationId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    const record = await waitForActivation(res.body.activationId);
    expect(record.response.result).toEqual({ done: true });
  });

  it("refuses an invalid blocking wait", async () => {
    await createAction("waits", HELLO_JS);
    const res = await invoke("waits", "blocking=true&timeout=600000");
    expect(res.status).toBe(400);
    expect(res.body.error).toContain("Timeout must be number of milliseconds up to 60000.");
  });

  it("refuses a body that is not a JSON object", async () => {
    await createAction("objects", HELLO_JS);
    const res = await call("POST", "/api/v1/namespaces/_/actions/objects?blocking=true", {
      raw: "[1,2]",
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(400);
  });

  it("limits parameters to 1 MB as JSON writes them, not as the request spelled them", async () => {
    await createAction("sized", "function main(p) { return { length: (p.p || '').length + (p.n || 0) }; }");
    const json = { "content-type": "application/json" };
    const limit = 1024 * 1024;
    const over = await call("POST", "/api/v1/namespaces/_/actions/sized?blocking=true", { body: { p: "x".repeat(limit) } });
    expect(over.status).toBe(413);
    expect(over.body.error).toBe(`Request larger than allowed: ${limit + '{"p":""}'.length} > ${limit} bytes.`);
    const exact = await call("POST", "/api/v1/namespaces/_/actions/sized?blocking=true&result=true", { body: { p: "x".repeat(limit - '{"p":""}'.length) } });
    expect(exact.body).toEqual({ length: limit - '{"p":""}'.length });
    // Spaces do not count; a short exponent counts as the digits it stands for.
    const padded = `{"p":"${"x".repeat(10)}"}${" ".repeat(limit)}`;
    expect((await call("POST", "/api/v1/namespaces/_/actions/sized?blocking=true&result=true", { raw: padded, headers: json })).body).toEqual({ length: 10 });
    const numbers = `{"a":[${Array(60_000).fill("1e20").join(",")}]}`;
    const grown = await call("POST", "/api/v1/namespaces/_/actions/sized?blocking=true", { raw: numbers, headers: json });
    expect(numbers.length).toBeLessThan(limit);
    expect(grown.status).toBe(413);
    expect(grown.body.error).toBe(`Request larger than allowed: ${JSON.stringify(JSON.parse(numbers)).length} > ${limit} bytes.`);
  });
});

describe("logs", () => {
  it("captures console output as OpenWhisk log lines, stdout and stderr", async () => {
    await createAction(
      "chatty",
      "function main() { console.log('one', {a: 1}); console.info('two'); console.warn('three'); console.error('four\\nfive'); return {} }",
    );
    const res = await invoke("chatty");
    const lines = res.body.logs as string[];
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z stdout: one \{ a: 1 \}$/);
    expect(lines.map((l) => l.replace(/^\S+ /, ""))).toEqual([
      "stdout: one { a: 1 }",
      "stdout: two",
      "stderr: three",
      "stderr: four",
      "stderr: five",
    ]);
  });

  it("formats console arguments as node's util.format does, directives included", async () => {
    await createAction(
      "formats",
      "function main() { console.log('%s has %d', 'x', 5); console.log('a', 'b', ''); console.log('100%', 'sure'); console.log(); console.log(['z'], 'y'); return {} }",
    );
    const res = await invoke("formats");
    expect((res.body.logs as string[]).map((l) => l.replace(/^\S+ /, ""))).toEqual([
      "stdout: x has 5",
      "stdout: a b ",
      "stdout: 100% sure",
      "stdout: ",
      "stdout: [ 'z' ] y",
    ]);
  });

  it("truncates logs at the action's limit with OpenWhisk's notice", async () => {
    await createAction("noisy", "function main() { for (let i = 0; i < 3; i++) console.log('line ' + i); return {} }", {
      limits: { logs: 0 },
    });
    const res = await invoke("noisy");
    expect(res.body.logs).toHaveLength(1);
    expect(res.body.logs[0]).toMatch(/stderr: Logs were truncated because the total bytes size exceeds the limit of 0 bytes\.$/);
  });
});

describe("isolates", () => {
  it("reuses the warm isolate of a version and never carries it to the next version", async () => {
    await createAction("counter", "let n = 0; function main() { n++; return { n } }");
    const first = await invoke("counter");
    const second = await invoke("counter");
    expect(first.body.response.result).toEqual({ n: 1 });
    expect(second.body.response.result).toEqual({ n: 2 });
    expect(first.body.annotations.some((a: { key: string }) => a.key === "initTime")).toBe(true);
    expect(second.body.annotations.some((a: { key: string }) => a.key === "initTime")).toBe(false);
    await call("PUT", "/api/v1/namespaces/_/actions/counter?overwrite=true", {
      body: { exec: { kind: "nodejs:20", code: "let n = 100; function main() { n++; return { n } }" } },
    });
    const third = await invoke("counter");
    expect(third.body.response.result).toEqual({ n: 101 });
    expect(third.body.version).toBe("0.0.2");
  });

  it("gives actions their __OW_ environment and no platform binding", async () => {
    await createAction(
      "environment",
      `function main() {
        const names = Object.getOwnPropertyNames(globalThis);
        return {
          ns: process.env.__OW_NAMESPACE, name: process.env.__OW_ACTION_NAME, id: process.env.__OW_ACTIVATION_ID,
          version: process.env.__OW_ACTION_VERSION, deadline: Number(process.env.__OW_DEADLINE),
          key: process.env.__OW_API_KEY ?? null, host: process.env.__OW_API_HOST,
          leaks: names.filter(n => ['DB', 'INVOKER', 'LOADER', 'ACTIVATIONS'].includes(n)).concat(
            Object.keys(process.env).filter(k => k.includes('AUTH')))
        };
      }`,
    );
    const res = await invoke("environment");
    const result = res.body.response.result;
    expect(result).toMatchObject({
      ns: "guest",
      name: "/guest/environment",
      id: res.body.activationId,
      version: "0.0.1",
      key: null,
      host: "http://edgewhisk.test",
      leaks: [],
    });
    expect(result.deadline).toBeGreaterThan(res.body.start);

    await call("PUT", "/api/v1/namespaces/_/actions/environment?overwrite=true", {
      body: { annotations: [{ key: "provide-api-key", value: true }] },
    });
    const withKey = await invoke("environment", "blocking=true&result=true");
    expect(withKey.body.key).toBe(GUEST_KEY);
  });

  it("gives the same __OW_ environment through node:process, imported or required", async () => {
    await createAction(
      "imported",
      `import imported from "node:process";
      export function main() { return { id: imported.env.__OW_ACTIVATION_ID, same: imported === globalThis.process }; }`,
    );
    const esm = await invoke("imported");
    expect(esm.body.response.result).toEqual({ id: esm.body.activationId, same: true });
    await createAction("required", `function main() { return { id: require("node:process").env.__OW_ACTIVATION_ID }; }`);
    const cjs = await invoke("required");
    expect(cjs.body.response.result).toEqual({ id: cjs.body.activationId });
  });

  it("passes init parameters as environment, not as arguments", async () => {
    await createAction("initenv", "function main(p) { return { arg: p.SECRET ?? null, env: process.env.SECRET } }", {
      parameters: [{ key: "SECRET", value: "s3cr3t", init: true }],
    });
    const res = await invoke("initenv", "blocking=true&result=true");
    expect(res.body).toEqual({ arg: null, env: "s3cr3t" });
  });
});

describe("non-blocking invokes through the queue", () => {
  it("answers 202 and the consumer records the activation", async () => {
    await createAction("queued", HELLO_JS);
    const res = await invoke("queued", "", { name: "Q" });
    expect(res.status).toBe(202);
    expect(res.headers.get("x-openwhisk-activation-id")).toBe(res.body.activationId);
    const record = await waitForActivation(res.body.activationId);
    expect(record.response.result).toEqual({ payload: "Hello, Q!" });
  });

  it("answers 404 at once for a missing action and queues nothing", async () => {
    const res = await invoke("missing", "");
    expect(res.status).toBe(404);
  });

  it("records a redelivered message once", async () => {
    await createAction("once", "let n = 0; function main() { return { n: ++n } }");
    const activationId = crypto.randomUUID().replaceAll("-", "");
    const message: DispatchMessage = {
      type: "invoke",
      request: {
        activationId,
        transactionId: "t",
        action: { namespace: "guest", name: "once" },
        identity: { namespace: "guest", subject: "guest", uuid: GUEST_KEY.split(":")[0], authKey: GUEST_KEY },
        params: {},
        receivedAt: Date.now(),
        apiHost: "http://edgewhisk.test",
      },
    };
    for (let delivery = 0; delivery < 2; delivery++) {
      const batch = createMessageBatch<DispatchMessage>("edgewhisk-activations", [
        { id: `m${delivery}`, timestamp: new Date(), attempts: delivery + 1, body: message },
      ]);
      const ctx = createExecutionContext();
      await worker.queue(batch as MessageBatch<DispatchMessage>, env, ctx);
      const result = await getQueueResult(batch, ctx);
      expect(result.explicitAcks).toEqual([`m${delivery}`]);
    }
    await waitForActivation(activationId);
    const records = await store().listActivations("guest", { name: "once" }, { limit: 10, skip: 0 });
    expect(records).toHaveLength(1);
    expect(records[0].response.result).toEqual({ n: 1 });
  });

  it("records a dead-lettered message as a whisk internal error", async () => {
    const activationId = crypto.randomUUID().replaceAll("-", "");
    const message: DispatchMessage = {
      type: "invoke",
      request: {
        activationId,
        transactionId: "t",
        action: { namespace: "guest", name: "whatever" },
        identity: { namespace: "guest", subject: "guest", uuid: "u", authKey: GUEST_KEY },
        params: {},
        receivedAt: Date.now(),
        apiHost: "http://edgewhisk.test",
      },
    };
    const batch = createMessageBatch<DispatchMessage>("edgewhisk-activations-dlq", [
      { id: "dead", timestamp: new Date(), attempts: 1, body: message },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch as MessageBatch<DispatchMessage>, env, ctx);
    await getQueueResult(batch, ctx);
    const record = await waitForActivation(activationId);
    expect(record.response).toMatchObject({ status: "whisk internal error", statusCode: 3, success: false });
  });
});

describe("the activation outbox", () => {
  it("delivers records a previous flush left behind when the alarm runs", async () => {
    const { runInDurableObject, runDurableObjectAlarm } = await import("cloudflare:test");
    const stub = env.INVOKER.get(env.INVOKER.idFromName("guest/outbox-test"));
    const activationId = crypto.randomUUID().replaceAll("-", "");
    const record = {
      namespace: "guest", name: "outbox-test", version: "0.0.1", subject: "guest", activationId,
      start: 1, end: 2, duration: 1, statusCode: 0,
      response: { status: "success", statusCode: 0, success: true, result: {} },
      logs: [], annotations: [{ key: "path", value: "guest/outbox-test" }], publish: false,
    };
    await runInDurableObject(stub, async (_instance, state) => {
      state.storage.kv.put(`outbox:${activationId}`, [record]);
      await state.storage.setAlarm(Date.now() + 60_000);
    });
    expect(await store().getActivation("guest", activationId)).toBeUndefined();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await store().getActivation("guest", activationId)).toEqual(record);
    await runInDurableObject(stub, async (_instance, state) => {
      expect([...state.storage.kv.list({ prefix: "outbox:" })]).toEqual([]);
    });
  });
});

describe("the outbound gateway", () => {
  it("gives actions the preinstalled openwhisk client, which calls the platform with the action's key", async () => {
    await createAction("callee", "function main(p) { return { hi: p.name } }");
    await createAction(
      "caller",
      `const openwhisk = require("openwhisk");
      async function main() {
        const ow = openwhisk();
        const result = await ow.actions.invoke({ name: "callee", blocking: true, result: true, params: { name: "nested" } });
        const names = (await ow.actions.list({ limit: 200 })).map((a) => a.name);
        return { result, names };
      }`,
      { annotations: [{ key: "provide-api-key", value: true }] },
    );
    const res = await invoke("caller", "blocking=true&result=true");
    expect(res.body.result).toEqual({ hi: "nested" });
    expect(res.body.names).toEqual(expect.arrayContaining(["caller", "callee"]));
  });

  it("lets an action call the platform's own API with its key", async () => {
    await createAction(
      "lister",
      `async function main() {
        const res = await fetch(process.env.__OW_API_HOST + "/api/v1/namespaces/_/actions?limit=200", {
          headers: { authorization: "Basic " + btoa(process.env.__OW_API_KEY) },
        });
        const list = await res.json();
        return { status: res.status, names: list.map((a) => a.name) };
      }`,
      { annotations: [{ key: "provide-api-key", value: true }] },
    );
    const res = await invoke("lister", "blocking=true&result=true");
    expect(res.body.status).toBe(200);
    expect(res.body.names).toContain("lister");
  });
});
