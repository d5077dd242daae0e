// What operators count (src/core/metrics.ts): the labels of an activation
// record, the limit behind a 429, and the executor reporting each record it
// makes.
import { describe, expect, it } from "vitest";
import { developerError, resultResponse, StatusCode, whiskError, type ActivationRecord } from "../../src/core/activation.js";
import { ConcurrencyLimiter } from "../../src/core/concurrency.js";
import { MemoryLeaseAuthority } from "../../src/core/lease-book.js";
import { WhiskError } from "../../src/core/errors.js";
import { activationSample, observedConcurrency, observedThrottle, outcomeOf, type ThrottledLimit } from "../../src/core/metrics.js";
import type { ThrottledKind } from "../../src/core/throttle.js";
import { activationRecord, putAction, putEntity, ref, sequenceDoc } from "../support/entities.js";
import { createTestPlatform, invokeRequest } from "../support/platform.js";

function record(facts: { kind?: string; initTime?: number; duration?: number; statusCode?: StatusCode; conductor?: boolean }): ActivationRecord {
  const responses = {
    [StatusCode.success]: resultResponse({ ok: true }),
    [StatusCode.applicationError]: resultResponse({ error: "no" }),
    [StatusCode.developerError]: developerError("thrown"),
    [StatusCode.whiskError]: whiskError("lost"),
  };
  const base = activationRecord({
    activationId: "a".repeat(32),
    namespace: "guest",
    name: "hello",
    start: 1_000,
    end: 1_000 + (facts.duration ?? 250),
    response: responses[facts.statusCode ?? StatusCode.success],
  });
  const annotations = base.annotations.filter((a) => a.key !== "kind");
  if (facts.kind !== undefined) annotations.push({ key: "kind", value: facts.kind });
  if (facts.initTime !== undefined) annotations.push({ key: "initTime", value: facts.initTime });
  if (facts.conductor) annotations.push({ key: "conductor", value: true });
  return { ...base, annotations };
}

describe("activation labels", () => {
  it("names each of OpenWhisk's four outcomes", () => {
    expect([0, 1, 2, 3].map((code) => outcomeOf(code as StatusCode))).toEqual([
      "success",
      "application_error",
      "developer_error",
      "whisk_error",
    ]);
    expect(activationSample(record({ kind: "nodejs:20", statusCode: StatusCode.developerError })).outcome).toBe("developer_error");
  });

  it("counts a run that started its isolate as cold and one that found it warm as warm, in seconds", () => {
    expect(activationSample(record({ kind: "nodejs:20", initTime: 40, duration: 1_500 }))).toEqual({
      outcome: "success",
      kind: "nodejs:20",
      run: { start: "cold", seconds: 1.5 },
    });
    expect(activationSample(record({ kind: "nodejs:22", duration: 3 }))).toEqual({
      outcome: "success",
      kind: "nodejs:22",
      run: { start: "warm", seconds: 0.003 },
    });
  });

  it("counts compositions by what they are, without a run of their own", () => {
    expect(activationSample(record({ kind: "sequence", statusCode: StatusCode.applicationError }))).toEqual({
      outcome: "application_error",
      kind: "sequence",
    });
    expect(activationSample(record({ kind: "sequence", conductor: true }))).toEqual({ outcome: "success", kind: "conductor" });
  });

  it("folds kinds it cannot vouch for into one label", () => {
    expect(activationSample(record({})).kind).toBe("unknown");
    expect(activationSample(record({ kind: `nodejs:${"9".repeat(40)}` })).kind).toBe("unknown");
    expect(activationSample(record({ kind: "Robert'); DROP" })).kind).toBe("unknown");
  });
});

describe("refusals by limit", () => {
  const refusing = (refuse: boolean) => ({
    admit: async (_namespace: string, _kind: ThrottledKind) => {
      if (refuse) throw new WhiskError(429, "Too many requests in the last minute (count: 3, allowed: 2).");
    },
  });

  it("names the per-minute limit an attempt of each kind was refused by, and rethrows the 429", async () => {
    const seen: ThrottledLimit[] = [];
    const throttle = observedThrottle(refusing(true), { throttled: (limit) => seen.push(limit) });
    await expect(throttle.admit("guest", "invoke")).rejects.toMatchObject({ status: 429 });
    await expect(throttle.admit("guest", "fire")).rejects.toMatchObject({ status: 429 });
    expect(seen).toEqual(["invocationsPerMinute", "firesPerMinute"]);
  });

  it("counts nothing for admitted attempts or for failures that are not refusals", async () => {
    const seen: ThrottledLimit[] = [];
    await observedThrottle(refusing(false), { throttled: (limit) => seen.push(limit) }).admit("guest", "invoke");
    const broken = observedThrottle({ admit: () => Promise.reject(new Error("database down")) }, { throttled: (limit) => seen.push(limit) });
    await expect(broken.admit("guest", "invoke")).rejects.toThrow("database down");
    expect(seen).toEqual([]);
  });

  it("names concurrentInvocations when a namespace has its limit in flight, and still releases places", async () => {
    const seen: ThrottledLimit[] = [];
    const authority = new MemoryLeaseAuthority();
    const gate = observedConcurrency(new ConcurrencyLimiter({ authority, limitsOf: async () => ({ concurrentInvocations: 1 }) }), {
      throttled: (limit) => seen.push(limit),
    });
    await gate.acquire("guest", "first");
    await expect(gate.acquire("guest", "second")).rejects.toMatchObject({ status: 429 });
    expect(seen).toEqual(["concurrentInvocations"]);
    await gate.release("guest", "first");
    expect(authority.size("guest")).toBe(0);
    await gate.acquire("guest", "second");
    expect(seen).toHaveLength(1);
  });
});

describe("executor observer", () => {
  it("reports every record the executor makes once it is stored, components of a sequence included", async () => {
    const observed: ActivationRecord[] = [];
    const t = createTestPlatform({ observer: { recorded: (r) => observed.push(r), throttled: () => {} } });
    const action = await putAction(t.store, "guest/hello");
    t.isolates.define("/guest/hello", () => ({ hi: true }));
    const cold = await t.executor.execute(invokeRequest(action));
    const warm = await t.executor.execute(invokeRequest(action));
    const sequence = ref("guest/twice");
    await putEntity(t.store, { collection: "actions", ref: sequence, doc: sequenceDoc(sequence, ["/guest/hello", "/guest/hello"]) });
    const composite = await t.executor.execute(invokeRequest(sequence));

    expect(observed.map((r) => r.activationId)).toEqual([cold.activationId, warm.activationId, ...composite.logs, composite.activationId]);
    expect(observed.map((r) => activationSample(r).run?.start ?? activationSample(r).kind)).toEqual(["cold", "warm", "warm", "warm", "sequence"]);
    for (const r of observed) expect(await t.store.getActivation("guest", r.activationId)).toEqual(r);
  });

  it("does not count a repeated run whose record the store already held", async () => {
    const observed: ActivationRecord[] = [];
    const t = createTestPlatform({ observer: { recorded: (r) => observed.push(r), throttled: () => {} } });
    const action = await putAction(t.store, "guest/hello");
    t.isolates.define("/guest/hello", () => ({}));
    const request = invokeRequest(action);
    await t.executor.execute(request);
    // The same activation delivered again and run again: its record is refused as a duplicate.
    await t.executor.execute(request);
    expect(observed.map((r) => r.activationId)).toEqual([request.activationId]);
  });

  it("reports nothing for an activation whose record could not be stored", async () => {
    const observed: ActivationRecord[] = [];
    const t = createTestPlatform({
      observer: { recorded: (r) => observed.push(r), throttled: () => {} },
      recordActivation: () => Promise.reject(new Error("store down")),
    });
    const action = await putAction(t.store, "guest/hello");
    t.isolates.define("/guest/hello", () => ({}));
    await expect(t.executor.execute(invokeRequest(action))).rejects.toThrow("store down");
    expect(observed).toEqual([]);
  });
});
