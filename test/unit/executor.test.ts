// The invoker's executor (src/invoker/executor.ts) on the fast tier's ports:
// the real SqlStore on SQLite in memory and fake isolates.
import { beforeEach, describe, expect, it, vi } from "vitest";
import { getAnnotation } from "../../src/core/entities.js";
import { Messages, WhiskError } from "../../src/core/errors.js";
import { LIMITS, MEGABYTE } from "../../src/core/limits.js";
import { IsolateStartError } from "../../src/ports/isolate-host.js";
import { putAction, ref, storedAction } from "../support/entities.js";
import { IsolateCrash } from "../support/fake-isolates.js";
import { API_HOST, createTestPlatform, invokeRequest, type TestPlatform } from "../support/platform.js";

let t: TestPlatform;
beforeEach(() => {
  t = createTestPlatform();
});

const annotation = (record: { annotations: { key: string; value: unknown }[] }, key: string) => getAnnotation(record.annotations, key);

describe("executor: results", () => {
  it("runs an action cold, then warm in the same isolate, and records each run", async () => {
    const code = "function main(p) { return { hello: p.name }; }";
    const action = await putAction(t.store, "guest/hello", { code, parameters: [{ key: "name", value: "default" }] });
    t.isolates.define("/guest/hello", (params) => ({ hello: params.name }));

    const first = await t.executor.execute(invokeRequest(action, { name: "Ada" }));
    const second = await t.executor.execute(invokeRequest(action));

    expect(first.response).toEqual({ status: "success", statusCode: 0, success: true, result: { hello: "Ada" } });
    expect(second.response.result).toEqual({ hello: "default" });
    expect(t.isolates.runs.map((run) => run.cold)).toEqual([true, false]);
    expect(t.isolates.runs[0].key).toBe(t.isolates.runs[1].key);
    // The cold start loaded the code the store keeps by digest.
    expect(t.isolates.built.get(t.isolates.runs[0].key)?.modules["action.js"]).toMatchObject({ cjs: expect.stringContaining(code) });
    expect(typeof annotation(first, "initTime")).toBe("number");
    expect(annotation(second, "initTime")).toBeUndefined();
    expect(annotation(first, "path")).toBe("guest/hello");
    expect(annotation(first, "kind")).toBe("nodejs:20");
    expect(await t.store.getActivation("guest", first.activationId)).toEqual(first);
    expect(await t.store.getActivation("guest", second.activationId)).toEqual(second);
  });

  it("hands the runner the activation's identity, and the API key only to actions that may have it", async () => {
    const open = await putAction(t.store, "guest/open");
    const closed = await putAction(t.store, "guest/closed", { annotations: [{ key: "provide-api-key", value: false }] });
    t.isolates.define("/guest/open", () => ({})).define("/guest/closed", () => ({}));
    const request = invokeRequest(open, { x: 1 });
    await t.executor.execute(request);
    await t.executor.execute(invokeRequest(closed));

    const [openRun, closedRun] = t.isolates.runs;
    expect(openRun.request).toMatchObject({
      params: { x: 1 },
      activationId: request.activationId,
      namespace: "guest",
      actionName: "/guest/open",
      actionVersion: "0.0.1",
      apiHost: API_HOST,
      apiKey: "uuid-guest:key",
      mainName: "main",
      logLimitBytes: 10 * MEGABYTE,
    });
    expect(openRun.request.deadline - Date.now()).toBeGreaterThan(LIMITS.timeout.std - 5_000);
    expect(closedRun.request.apiKey).toBeUndefined();
  });

  it("records a result with an error field as an application error", async () => {
    const action = await putAction(t.store, "guest/fails");
    t.isolates.define("/guest/fails", () => ({ error: "no such thing" }));
    const record = await t.executor.execute(invokeRequest(action));
    expect(record.response).toEqual({ status: "application error", statusCode: 1, success: false, result: { error: "no such thing" } });
    expect(record.statusCode).toBe(1);
  });

  it("records a thrown error as a developer error and a rejected promise as an application error", async () => {
    const throws = await putAction(t.store, "guest/throws");
    const rejects = await putAction(t.store, "guest/rejects");
    t.isolates
      .define("/guest/throws", () => {
        throw new TypeError("x is not a function");
      })
      .define("/guest/rejects", () => Promise.reject(new Error("later")));
    const thrown = await t.executor.execute(invokeRequest(throws));
    const rejected = await t.executor.execute(invokeRequest(rejects));
    expect(thrown.response).toEqual({
      status: "action developer error",
      statusCode: 2,
      success: false,
      result: { error: "An error has occurred: TypeError: x is not a function" },
    });
    expect(rejected.response).toMatchObject({ statusCode: 1, result: { error: { message: "later" } } });
  });

  it("refuses a result over the size limit as a developer error naming the sizes", async () => {
    const action = await putAction(t.store, "guest/big");
    t.isolates.define("/guest/big", () => ({ blob: "b".repeat(LIMITS.resultBytes) }));
    const record = await t.executor.execute(invokeRequest(action));
    const size = LIMITS.resultBytes + '{"blob":""}'.length;
    expect(record.response).toEqual({
      status: "action developer error",
      statusCode: 2,
      success: false,
      result: { error: Messages.truncatedResponse(size, LIMITS.resultBytes) },
    });
  });

  it("accepts a result of exactly the size limit", async () => {
    const action = await putAction(t.store, "guest/edge");
    t.isolates.define("/guest/edge", () => ({ blob: "b".repeat(LIMITS.resultBytes - '{"blob":""}'.length) }));
    const record = await t.executor.execute(invokeRequest(action));
    expect(record.response.statusCode).toBe(0);
  });

  it("hands the record's writer the result size it measured for the limit", async () => {
    const written: [string, number | undefined][] = [];
    t = createTestPlatform({ recordActivation: async (record, resultBytes) => void written.push([record.activationId, resultBytes]) });
    const action = await putAction(t.store, "guest/sized");
    t.isolates.define("/guest/sized", () => ({ name: "José" }));
    const ok = await t.executor.execute(invokeRequest(action));
    t.isolates.define("/guest/sized", () => ({ blob: "b".repeat(LIMITS.resultBytes) }));
    const refused = await t.executor.execute(invokeRequest(action));
    // UTF-8 bytes of {"name":"José"}; a refused result is not kept, so it has no size to pass on.
    expect(written).toEqual([
      [ok.activationId, 16],
      [refused.activationId, undefined],
    ]);
  });

  it("answers 404 for an action that does not exist, and runs nothing", async () => {
    await expect(t.executor.execute(invokeRequest(ref("guest/nothing")))).rejects.toMatchObject({ status: 404 });
    expect(t.isolates.runs).toEqual([]);
  });
});

describe("executor: logs", () => {
  it("keeps the action's log lines, stdout and stderr, in order", async () => {
    const action = await putAction(t.store, "guest/chatty");
    t.isolates.define("/guest/chatty", (_params, run) => {
      run.log("one");
      run.log("two", "stderr");
      return {};
    });
    const record = await t.executor.execute(invokeRequest(action));
    expect(record.logs).toHaveLength(2);
    expect(record.logs[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z stdout: one$/);
    expect(record.logs[1]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z stderr: two$/);
  });

  it("ends logs cut at the action's log limit with OpenWhisk's truncation line", async () => {
    const action = await putAction(t.store, "guest/flood", { limits: { logs: 1 } });
    t.isolates.define("/guest/flood", (_params, run) => {
      run.log("a".repeat(600_000));
      run.log("b".repeat(600_000));
      return { done: true };
    });
    const record = await t.executor.execute(invokeRequest(action));
    expect(record.response.result).toEqual({ done: true });
    expect(record.logs).toHaveLength(2);
    expect(record.logs[0]).toContain("stdout: aaa");
    expect(record.logs[1]).toMatch(new RegExp(`stderr: ${Messages.truncatedLogs(MEGABYTE).replace(/[.()]/g, "\\$&")}$`));
  });
});

describe("executor: failing isolates", () => {
  it("answers a run past the action's timeout as a developer error and never reuses that isolate", async () => {
    const action = await putAction(t.store, "guest/slow", { limits: { timeout: 100 } });
    let calls = 0;
    t.isolates.define("/guest/slow", () => (calls++ === 0 ? new Promise(() => undefined) : { fast: true }));

    const started = Date.now();
    const record = await t.executor.execute(invokeRequest(action));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(record.response).toEqual({
      status: "action developer error",
      statusCode: 2,
      success: false,
      result: { error: Messages.timedOut(100) },
    });
    expect(annotation(record, "timeout")).toBe(true);
    expect(t.isolates.discarded).toEqual([t.isolates.runs[0].key]);

    const next = await t.executor.execute(invokeRequest(action));
    expect(next.response.result).toEqual({ fast: true });
    expect(annotation(next, "timeout")).toBe(false);
    expect(t.isolates.runs[1].cold).toBe(true);
  });

  it("records an isolate that crashed mid-run as a whisk internal error, then starts a fresh one", async () => {
    const action = await putAction(t.store, "guest/crashy");
    let calls = 0;
    t.isolates.define("/guest/crashy", () => {
      if (calls++ === 0) throw new IsolateCrash("workerd child exited with signal SIGKILL");
      return { ok: true };
    });
    const crashed = await t.executor.execute(invokeRequest(action));
    expect(crashed.response).toEqual({
      status: "whisk internal error",
      statusCode: 3,
      success: false,
      result: { error: "workerd child exited with signal SIGKILL" },
    });
    expect(await t.store.getActivation("guest", crashed.activationId)).toEqual(crashed);
    const next = await t.executor.execute(invokeRequest(action));
    expect(next.response.result).toEqual({ ok: true });
    expect(t.isolates.runs.map((run) => run.cold)).toEqual([true, true]);
  });

  it("records an isolate that failed to start as OpenWhisk's initialization error", async () => {
    const action = await putAction(t.store, "guest/broken");
    t.isolates.define("/guest/broken", () => {
      throw new IsolateStartError("SyntaxError: Unexpected token '}'");
    });
    const record = await t.executor.execute(invokeRequest(action));
    expect(record.response).toEqual({
      status: "action developer error",
      statusCode: 2,
      success: false,
      result: { error: "Initialization has failed due to: SyntaxError: Unexpected token '}'" },
    });
    expect(t.isolates.discarded).toHaveLength(1);
  });
});

describe("executor: places and caches", () => {
  it("resolves a web request's action once, for its annotations and its run", async () => {
    await t.store.putSubject({ uuid: "u", keyHash: "h", namespace: "guest", subject: "guest" });
    const action = await putAction(t.store, "guest/page", { annotations: [{ key: "web-export", value: true }] });
    t.isolates.define("/guest/page", (params) => ({ method: params.__ow_method }));
    const resolve = vi.spyOn(t.executor, "resolve");
    const outcome = await t.executor.executeWeb({
      activationId: "a".repeat(32),
      transactionId: "t",
      action,
      web: { method: "GET", headers: {}, path: "", query: "" },
      receivedAt: Date.now(),
      apiHost: API_HOST,
    });
    expect(outcome).toMatchObject({ kind: "record", record: { response: { result: { method: "get" } } } });
    expect(resolve).toHaveBeenCalledTimes(1);
  });

  it("gives back the place of a leased activation before answering, whatever its outcome", async () => {
    const ok = await putAction(t.store, "guest/ok");
    const bad = await putAction(t.store, "guest/bad");
    t.isolates.define("/guest/ok", () => ({})).define("/guest/bad", () => {
      throw new IsolateCrash("gone");
    });
    for (const action of [ok, bad]) {
      const request = { ...invokeRequest(action), leased: true as const };
      await t.concurrency.acquire("guest", request.activationId);
      expect(t.concurrency.held("guest")).toBe(1);
      await t.executor.execute(request);
      expect(t.concurrency.held("guest")).toBe(0);
    }
    // An unleased request (a sequence component) releases nothing.
    await t.executor.execute(invokeRequest(ok));
    expect(t.concurrency.calls.filter((call) => call.startsWith("release"))).toHaveLength(2);
  });

  it("keeps running the action it resolved until told the action changed", async () => {
    const action = await putAction(t.store, "guest/versioned");
    t.isolates.define("/guest/versioned", (_p, run) => ({ version: run.request.actionVersion }));
    expect((await t.executor.execute(invokeRequest(action))).response.result).toEqual({ version: "0.0.1" });

    const entity = (await t.store.getEntity(action))!;
    expect(await t.store.updateEntity({ ...entity, doc: { ...entity.doc, version: "0.0.2" } }, entity.rev!)).toBe(true);
    expect((await t.executor.execute(invokeRequest(action))).response.result).toEqual({ version: "0.0.1" });

    t.executor.invalidate([action]);
    const updated = await t.executor.execute(invokeRequest(action));
    expect(updated.response.result).toEqual({ version: "0.0.2" });
    expect(updated.version).toBe("0.0.2");
    // A new version gets an isolate of its own.
    expect(t.isolates.runs[2].cold).toBe(true);
    expect(t.isolates.runs[2].key).not.toBe(t.isolates.runs[0].key);
  });

  it("reads a changed action it was invoking, code included, when told of the change, so its next invoke reads nothing", async () => {
    const action = await putAction(t.store, "guest/updated", { code: "function main() { return { v: 1 }; }" });
    const unused = await putAction(t.store, "guest/unused");
    t.isolates.define("/guest/updated", (_p, run) => ({ version: run.request.actionVersion }));
    await t.executor.execute(invokeRequest(action));

    const next = await storedAction(action, { code: "function main() { return { v: 2 }; }", version: "0.0.2" });
    const entity = (await t.store.getEntity(action))!;
    expect(await t.store.updateEntity(next.entity, entity.rev!, next.code)).toBe(true);
    const getEntity = vi.spyOn(t.store, "getEntity");
    const getCode = vi.spyOn(t.store, "getCode");
    t.executor.invalidate([action, unused]);
    await vi.waitFor(() => expect(getCode).toHaveBeenCalledWith(next.code.digest));
    // Only what was being invoked here is read again.
    expect(getEntity.mock.calls.map(([read]) => read.name)).toEqual(["updated"]);

    getEntity.mockClear();
    getCode.mockClear();
    const updated = await t.executor.execute(invokeRequest(action));
    expect(updated.response.result).toEqual({ version: "0.0.2" });
    expect(t.isolates.built.get(t.isolates.runs[1].key)?.modules["action.js"]).toMatchObject({ cjs: expect.stringContaining("v: 2") });
    expect(getEntity).not.toHaveBeenCalled();
    expect(getCode).not.toHaveBeenCalled();
  });

  it("shares the refresh's reads with an invoke that arrives while they are under way", async () => {
    const action = await putAction(t.store, "guest/racing", { code: "function main() { return { v: 1 }; }" });
    t.isolates.define("/guest/racing", (_p, run) => ({ version: run.request.actionVersion }));
    await t.executor.execute(invokeRequest(action));

    const next = await storedAction(action, { code: "function main() { return { v: 2 }; }", version: "0.0.2" });
    const entity = (await t.store.getEntity(action))!;
    expect(await t.store.updateEntity(next.entity, entity.rev!, next.code)).toBe(true);
    const getEntity = vi.spyOn(t.store, "getEntity");
    const getCode = vi.spyOn(t.store, "getCode");
    t.executor.invalidate([action]);
    // Right after the update, before the refresh has read anything back.
    const [updated, again] = await Promise.all([t.executor.execute(invokeRequest(action)), t.executor.execute(invokeRequest(action))]);
    expect([updated.response.result, again.response.result]).toEqual([{ version: "0.0.2" }, { version: "0.0.2" }]);
    expect(getEntity.mock.calls.map(([read]) => read.name)).toEqual(["racing"]);
    expect(getCode).toHaveBeenCalledTimes(1);
  });

  it("starts the isolate of a changed action it was invoking without running its code, and the first invoke still initialises it", async () => {
    const refreshes: Promise<void>[] = [];
    t = createTestPlatform({ background: (work) => void refreshes.push(work) });
    const action = await putAction(t.store, "guest/prepared", { code: "function main() { return { v: 1 }; }" });
    let calls = 0;
    t.isolates.define("/guest/prepared", (_p, run) => {
      calls++;
      return { version: run.request.actionVersion };
    });
    await t.executor.execute(invokeRequest(action));

    const next = await storedAction(action, { code: "function main() { return { v: 2 }; }", version: "0.0.2" });
    const entity = (await t.store.getEntity(action))!;
    expect(await t.store.updateEntity(next.entity, entity.rev!, next.code)).toBe(true);
    t.executor.invalidate([action]);
    await Promise.all(refreshes);
    expect(t.isolates.prepared).toHaveLength(1);
    expect(calls).toBe(1);
    const [key] = t.isolates.prepared;
    expect(t.isolates.built.get(key)?.modules["action.js"]).toMatchObject({ cjs: expect.stringContaining("v: 2") });

    const first = await t.executor.execute(invokeRequest(action));
    const second = await t.executor.execute(invokeRequest(action));
    expect(first.response.result).toEqual({ version: "0.0.2" });
    // The activation ran in the isolate started for it, which its run initialised: OpenWhisk's initTime.
    expect(t.isolates.runs[1]).toMatchObject({ key, cold: false });
    expect(typeof annotation(first, "initTime")).toBe("number");
    expect(t.isolates.runs[2].key).toBe(key);
    expect(annotation(second, "initTime")).toBeUndefined();
  });

  it("starts no isolate for a changed action that no activation ran since the last one was started", async () => {
    const refreshes: Promise<void>[] = [];
    t = createTestPlatform({ background: (work) => void refreshes.push(work) });
    const action = await putAction(t.store, "guest/idle");
    t.isolates.define("/guest/idle", () => ({}));
    await t.executor.execute(invokeRequest(action));
    const getCode = vi.spyOn(t.store, "getCode");
    for (const version of ["0.0.2", "0.0.3"]) {
      const next = await storedAction(action, { code: `function main() { return { v: "${version}" }; }`, version });
      const entity = (await t.store.getEntity(action))!;
      expect(await t.store.updateEntity(next.entity, entity.rev!, next.code)).toBe(true);
      t.executor.invalidate([action]);
      await Promise.all(refreshes);
      // Each update is read again, code included.
      expect(getCode).toHaveBeenLastCalledWith(next.code.digest);
    }
    expect(t.isolates.prepared).toHaveLength(1);
    expect(t.isolates.prepared[0]).toContain("@0.0.2#");
  });

  it("starts an announced version's isolate before it is stored, reading nothing, and its first invoke after the write runs there", async () => {
    const started: Promise<void>[] = [];
    t = createTestPlatform({ background: (work) => void started.push(work) });
    const action = await putAction(t.store, "guest/announced", { code: "function main() { return { v: 1 }; }" });
    t.isolates.define("/guest/announced", (_p, run) => ({ version: run.request.actionVersion }));
    await t.executor.execute(invokeRequest(action));

    const next = await storedAction(action, { code: "function main() { return { v: 2 }; }", version: "0.0.2" });
    const getEntity = vi.spyOn(t.store, "getEntity");
    const getCode = vi.spyOn(t.store, "getCode");
    t.executor.announce({ ref: action, doc: next.entity.doc, codeDigest: next.code.digest, code: next.code.text });
    await Promise.all(started);
    expect(t.isolates.prepared).toHaveLength(1);
    const [key] = t.isolates.prepared;
    expect(key).toContain("@0.0.2#");
    expect(t.isolates.built.get(key)?.modules["action.js"]).toMatchObject({ cjs: expect.stringContaining("v: 2") });
    expect(getEntity).not.toHaveBeenCalled();
    expect(getCode).not.toHaveBeenCalled();
    // Announced, not stored: an invoke still runs what the store holds.
    expect((await t.executor.execute(invokeRequest(action))).response.result).toEqual({ version: "0.0.1" });

    const entity = (await t.store.getEntity(action))!;
    expect(await t.store.updateEntity(next.entity, entity.rev!, next.code)).toBe(true);
    t.executor.invalidate([action]);
    await Promise.all(started);
    const first = await t.executor.execute(invokeRequest(action));
    expect(first.response.result).toEqual({ version: "0.0.2" });
    expect(t.isolates.runs.at(-1)).toMatchObject({ key, cold: false });
    expect(typeof annotation(first, "initTime")).toBe("number");
    // The invalidation after the write started no other isolate (the invoke of 0.0.1 asked for one more
    // preparation, which found this one warm), and the code was never read back.
    expect(new Set(t.isolates.prepared)).toEqual(new Set([key]));
    expect(t.isolates.built.size).toBe(2);
    expect(getCode).not.toHaveBeenCalled();
  });

  it("starts nothing for an announced version of an action not run here lately, in a package, or a sequence", async () => {
    const started: Promise<void>[] = [];
    t = createTestPlatform({ background: (work) => void started.push(work) });
    const idle = await putAction(t.store, "guest/quiet");
    const idleNext = await storedAction(idle, { version: "0.0.2" });
    t.executor.announce({ ref: idle, doc: idleNext.entity.doc, codeDigest: idleNext.code.digest, code: idleNext.code.text });

    await t.store.createEntity({
      collection: "packages",
      ref: ref("guest/tools"),
      doc: { namespace: "guest", name: "tools", version: "0.0.1", publish: false, updated: 1, annotations: [], parameters: [], binding: {} },
    });
    const packaged = await putAction(t.store, "guest/tools/echo");
    t.isolates.define("/guest/tools/echo", () => ({}));
    await t.executor.execute(invokeRequest(packaged));
    const packagedNext = await storedAction(packaged, { version: "0.0.2" });
    t.executor.announce({ ref: packaged, doc: packagedNext.entity.doc, codeDigest: packagedNext.code.digest, code: packagedNext.code.text });

    await Promise.all(started);
    expect(t.isolates.prepared).toEqual([]);
  });

  it("keeps a namespace's activations of a shared action out of another namespace's isolate", async () => {
    await t.store.createEntity({
      collection: "packages",
      ref: ref("lib/tools"),
      doc: { namespace: "lib", name: "tools", version: "0.0.1", publish: true, updated: 1, annotations: [], parameters: [], binding: {} },
    });
    const shared = await putAction(t.store, "lib/tools/echo");
    t.isolates.define("/lib/tools/echo", (_p, run) => ({ caller: run.request.namespace }));
    const fromGuest = await t.executor.execute(invokeRequest(shared, {}, "guest"));
    const fromOther = await t.executor.execute(invokeRequest(shared, {}, "other"));
    expect([fromGuest.response.result, fromOther.response.result]).toEqual([{ caller: "guest" }, { caller: "other" }]);
    expect(fromGuest.namespace).toBe("guest");
    expect(t.isolates.runs.map((run) => run.cold)).toEqual([true, true]);
  });

  it("raises OpenWhisk's 403 for another namespace's unpublished action", async () => {
    const action = await putAction(t.store, "lib/private");
    const refused = await t.executor.execute(invokeRequest(action, {}, "guest")).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(WhiskError);
    expect(refused).toMatchObject({ status: 403, message: Messages.notAuthorizedToAccess("lib/private") });
    expect(t.isolates.runs).toEqual([]);
  });
});
