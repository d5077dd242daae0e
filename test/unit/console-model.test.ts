// The console's host-neutral reading of activation records: the overview's
// per-minute series and the timeline's waterfall.
import { describe, expect, it } from "vitest";
import { activityByMinute, hourTotals, percentile } from "../../src/console/model/metrics.js";
import { startKind, statusName, type ActivationView } from "../../src/console/model/records.js";
import { compositionOf, waterfall } from "../../src/console/model/timeline.js";

const NOW = Date.UTC(2026, 10, 29, 12, 30, 30);
const MINUTE = 60_000;
let n = 0;
const record = (start: number, duration: number, statusCode = 0, extra: Partial<ActivationView> = {}): ActivationView => ({
  activationId: (n++).toString(16).padStart(32, "0"),
  name: "a",
  namespace: "guest",
  start,
  end: start + duration,
  duration,
  statusCode,
  ...extra,
});

describe("activityByMinute", () => {
  it("counts activations and errors per minute and takes nearest-rank percentiles of durations", () => {
    const thisMinute = Math.floor(NOW / MINUTE) * MINUTE;
    const records = [
      ...Array.from({ length: 99 }, (_, i) => record(thisMinute + 10, i + 1)),
      record(thisMinute + 20, 1000, 2),
      record(thisMinute - MINUTE, 7, 1),
      record(thisMinute - 60 * MINUTE, 5), // before the window
    ];
    const series = activityByMinute(records, NOW);
    expect(series.minutes).toHaveLength(60);
    expect(series.minutes.at(-1)).toBe(thisMinute / 1000);
    expect(series.count.at(-1)).toBe(100);
    expect(series.errors.at(-1)).toBe(1);
    expect(series.errorRate.at(-1)).toBe(1);
    expect(series.p50.at(-1)).toBe(50);
    expect(series.p99.at(-1)).toBe(99);
    expect([series.count.at(-2), series.errors.at(-2), series.errorRate.at(-2), series.p99.at(-2)]).toEqual([1, 1, 100, 7]);
    expect(series.count.slice(0, -2).every((c) => c === 0)).toBe(true);
    expect(series.errorRate[0]).toBeNull();
    expect(series.p50[0]).toBeNull();
  });

  it("counts a trigger's activation, which has no duration or status, as neither an error nor a duration", () => {
    const fired: ActivationView = { activationId: "f".repeat(32), name: "t", namespace: "guest", start: NOW - 1000 };
    const series = activityByMinute([fired], NOW);
    expect([series.count.at(-1), series.errors.at(-1), series.p50.at(-1)]).toEqual([1, 0, null]);
    expect(statusName(fired)).toBe("–");
    expect(statusName(record(NOW, 1, 2))).toBe("developer error");
  });

  it("totals the hour", () => {
    expect(hourTotals([record(NOW, 10), record(NOW, 30, 1)])).toEqual({ activations: 2, errors: 1, errorRate: 50, p50: 10, p99: 30 });
    expect(percentile([], 50)).toBeNull();
  });
});

describe("startKind", () => {
  it("says cold when the record carries initTime, warm otherwise, nothing for a sequence", () => {
    expect(startKind(record(NOW, 5, 0, { annotations: [{ key: "initTime", value: 3 }] }))).toBe("cold");
    expect(startKind(record(NOW, 5, 0, { annotations: [{ key: "waitTime", value: 3 }] }))).toBe("warm");
    expect(startKind(record(NOW, 5, 0, { annotations: [{ key: "kind", value: "sequence" }] }))).toBeUndefined();
  });
});

describe("the timeline", () => {
  it("reads a sequence's logs as component ids and places each against the sequence's start", () => {
    const first = record(NOW + 2, 40, 0, { name: "upper", annotations: [{ key: "waitTime", value: 2 }, { key: "initTime", value: 30 }] });
    const second = record(NOW + 45, 10, 1, { name: "exclaim" });
    const sequence = record(NOW, 55, 1, { name: "seq", logs: [first.activationId, second.activationId], annotations: [{ key: "kind", value: "sequence" }] });
    const composition = compositionOf(sequence);
    expect(composition).toEqual({ kind: "components", ids: [first.activationId, second.activationId] });
    const chart = waterfall(sequence, [
      { id: first.activationId, record: first },
      { id: second.activationId, record: second },
      { id: "e".repeat(32) },
    ]);
    expect(chart.span).toBe(55);
    expect(chart.rows).toEqual([
      { activationId: first.activationId, label: "upper", offset: 2, duration: 40, waitTime: 2, initTime: 30, statusCode: 0 },
      { activationId: second.activationId, label: "exclaim", offset: 45, duration: 10, statusCode: 1 },
      { activationId: "e".repeat(32), label: "e".repeat(32), offset: 0, duration: 0, missing: true },
    ]);
  });

  it("reads a trigger's logs as its rules' outcomes, and starts the chart at the earliest record", () => {
    const logs = [
      JSON.stringify({ statusCode: 0, success: true, activationId: "a".repeat(32), rule: "guest/r1", action: "guest/hello" }),
      JSON.stringify({ statusCode: 1, success: false, error: "The requested resource does not exist.", rule: "guest/r2", action: "guest/gone" }),
    ];
    const trigger: ActivationView = { activationId: "b".repeat(32), name: "t", namespace: "guest", start: NOW + 5, logs };
    const composition = compositionOf(trigger);
    expect(composition.kind).toBe("rules");
    expect(composition.kind === "rules" && composition.outcomes.map((o) => o.rule)).toEqual(["guest/r1", "guest/r2"]);
    const chart = waterfall(trigger, [{ id: "a".repeat(32), label: "guest/r1 → guest/hello", record: record(NOW, 20) }]);
    expect(chart.rows[0]).toMatchObject({ label: "guest/r1 → guest/hello", offset: 0, duration: 20 });
    expect(chart.span).toBe(20);
  });

  it("finds nothing to draw in an ordinary action's logs", () => {
    expect(compositionOf(record(NOW, 1, 0, { logs: ["2026-11-29T12:00:00.000Z stdout: hi"] }))).toEqual({ kind: "none" });
    expect(compositionOf(record(NOW, 1, 0, { logs: ['{"level":"info"}'] }))).toEqual({ kind: "none" });
    expect(compositionOf(record(NOW, 1))).toEqual({ kind: "none" });
  });
});
