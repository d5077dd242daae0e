// An activation whose invoker died mid-run (src/activation/failures.ts
// recordLostActivation): it ends with one record, and its place comes back.
import { describe, expect, it } from "vitest";
import { recordLostActivation } from "../../src/activation/failures.js";
import { Messages } from "../../src/core/errors.js";
import type { ConcurrencyGate } from "../../src/ports/admission.js";
import { memoryStore } from "../support/memory-sql.js";
import { invokeRequest } from "../support/platform.js";

const request = { ...invokeRequest({ namespace: "guest", name: "hello" }), leased: true as const };

function gate(): ConcurrencyGate & { released: string[] } {
  const released: string[] = [];
  return { released, acquire: async () => true, release: async (_ns: string, id: string) => void released.push(id) } as never;
}

describe("recordLostActivation", () => {
  it("records a whisk internal error under the activation's id and gives its place back", async () => {
    const { store } = memoryStore();
    const concurrency = gate();
    const record = await recordLostActivation({ store, concurrency }, request, 2_000);
    expect(record.response).toMatchObject({ status: "whisk internal error", result: { error: Messages.invokerLost } });
    expect(await store.getActivation("guest", request.activationId)).toMatchObject({ activationId: request.activationId, response: { status: "whisk internal error" } });
    expect(concurrency.released).toEqual([request.activationId]);
  });

  it("keeps the record the invoker wrote before it went", async () => {
    const { store } = memoryStore();
    await recordLostActivation({ store }, request, 2_000);
    const first = await store.getActivation("guest", request.activationId);
    const again = await recordLostActivation({ store }, request, 9_000);
    expect(again).toEqual(first);
  });
});
