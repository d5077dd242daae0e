import { describe, expect, it } from "vitest";
import { activationResponse, StatusCode, type ActivationRecord } from "../../src/core/activation.js";
import { activationRetentionMs, purgeExpiredActivations } from "../../src/store/retention.js";
import { memoryStore } from "../support/memory-sql.js";

const DAY = 24 * 60 * 60_000;

function activation(id: string, start: number): ActivationRecord {
  return {
    activationId: id.repeat(32),
    namespace: "guest",
    name: "hello",
    subject: "guest",
    version: "0.0.1",
    start,
    end: start + 1,
    duration: 1,
    statusCode: StatusCode.success,
    response: activationResponse(StatusCode.success, {}),
    logs: [],
    annotations: [],
    publish: false,
  };
}

describe("activationRetentionMs", () => {
  it("keeps a week when ACTIVATION_RETENTION_DAYS is unset or blank", () => {
    expect(activationRetentionMs(undefined)).toBe(7 * DAY);
    expect(activationRetentionMs("  ")).toBe(7 * DAY);
  });

  it("reads a positive number of days, fractions included", () => {
    expect(activationRetentionMs("30")).toBe(30 * DAY);
    expect(activationRetentionMs(" 0.5 ")).toBe(DAY / 2);
  });

  it.each(["0", "-1", "seven", "Infinity", "7d"])("refuses %j", (text) => {
    expect(() => activationRetentionMs(text)).toThrow(`ACTIVATION_RETENTION_DAYS is not a positive number of days: ${text}`);
  });
});

describe("purgeExpiredActivations", () => {
  it("removes activations started before now minus the retention and keeps the rest", async () => {
    const store = memoryStore().store;
    const now = 100 * DAY;
    await store.putActivations([activation("a", now - 3 * DAY - 1), activation("b", now - 3 * DAY), activation("c", now - 1)]);
    expect(await purgeExpiredActivations(store, 3 * DAY, now)).toBe(1);
    expect(await store.getActivation("guest", "a".repeat(32))).toBeUndefined();
    expect(await store.getActivation("guest", "b".repeat(32))).toBeDefined();
    expect(await store.getActivation("guest", "c".repeat(32))).toBeDefined();
  });
});
