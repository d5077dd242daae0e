import { describe, expect, it } from "vitest";
import { withoutCode } from "../../src/core/actions.js";
import type { EntityReader, RuleDoc, StoredEntity, TriggerDoc } from "../../src/core/entities.js";
import { concealed, findEntityOf, getEntityOf } from "../../src/core/entity-reads.js";
import { WhiskError } from "../../src/core/errors.js";
import type { EntityRef } from "../../src/core/names.js";

const base = { namespace: "guest", version: "0.0.1", publish: false, annotations: [], updated: 1 };
const triggerDoc: TriggerDoc = { ...base, name: "t", parameters: [], limits: {} };
const ruleDoc: RuleDoc = { ...base, name: "r", trigger: { path: "guest", name: "t" }, action: { path: "guest", name: "a" } };

const trigger: StoredEntity<"triggers"> = { collection: "triggers", ref: { namespace: "guest", name: "t" }, doc: triggerDoc, rev: 3 };
const rule: StoredEntity<"rules"> = { collection: "rules", ref: { namespace: "guest", name: "r" }, doc: ruleDoc, rev: 1 };

const reader: EntityReader = {
  getEntity: async (ref: EntityRef) => [trigger, rule].find((e) => e.ref.name === ref.name),
};

async function failure(read: Promise<unknown>): Promise<{ status: number; message: string }> {
  const err = await read.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof WhiskError)) throw new Error(`expected a WhiskError, got ${String(err)}`);
  return { status: err.status, message: err.message };
}

describe("getEntityOf", () => {
  it("answers the entity of the collection asked for, revision included", async () => {
    const read = await getEntityOf(reader, "triggers", { namespace: "guest", name: "t" });
    expect(read.doc.limits).toEqual({});
    expect(read.rev).toBe(3);
  });

  it("answers OpenWhisk's 404 for a name nothing has", async () => {
    expect(await failure(getEntityOf(reader, "triggers", { namespace: "guest", name: "nothing" }))).toEqual({
      status: 404,
      message: "The requested resource does not exist.",
    });
  });

  it("answers OpenWhisk's 409 for a name another collection has", async () => {
    expect(await failure(getEntityOf(reader, "triggers", { namespace: "guest", name: "r" }))).toEqual({
      status: 409,
      message: "Resource by this name exists but is not in this collection.",
    });
  });

  it("answers the caller's own errors when it gives them", async () => {
    const failures = { missing: () => new WhiskError(400, "gone"), otherCollection: () => new WhiskError(409, "other") };
    expect(await failure(getEntityOf(reader, "packages", { namespace: "guest", name: "x" }, failures))).toEqual({ status: 400, message: "gone" });
    expect(await failure(getEntityOf(reader, "packages", { namespace: "guest", name: "t" }, failures))).toEqual({ status: 409, message: "other" });
  });

  it("conceals missing and misplaced entities alike behind a 403", async () => {
    const missing = await failure(getEntityOf(reader, "packages", { namespace: "guest", name: "x" }, concealed("guest/x")));
    const misplaced = await failure(getEntityOf(reader, "packages", { namespace: "guest", name: "t" }, concealed("guest/x")));
    expect(missing.status).toBe(403);
    expect(misplaced).toEqual(missing);
  });
});

describe("findEntityOf", () => {
  it("answers the entity of the collection, else nothing", async () => {
    expect((await findEntityOf(reader, "rules", { namespace: "guest", name: "r" }))?.doc.trigger).toEqual({ path: "guest", name: "t" });
    expect(await findEntityOf(reader, "rules", { namespace: "guest", name: "t" })).toBeUndefined();
    expect(await findEntityOf(reader, "rules", { namespace: "guest", name: "nothing" })).toBeUndefined();
  });
});

describe("withoutCode", () => {
  const action = {
    ...base,
    name: "a",
    parameters: [],
    limits: { timeout: 60_000, memory: 256, logs: 10, concurrency: 1 },
  };

  it("takes the code out and keeps the rest of the exec", () => {
    const stored = withoutCode({ ...action, exec: { kind: "nodejs:20", code: "x", binary: false, main: "run" } });
    expect(stored.exec).toEqual({ kind: "nodejs:20", binary: false, main: "run" });
    expect(stored.name).toBe("a");
  });

  it("leaves sequences and code-less execs as they are", () => {
    const sequence = { kind: "sequence" as const, components: ["/guest/a"] };
    expect(withoutCode({ ...action, exec: sequence }).exec).toEqual(sequence);
    expect(withoutCode({ ...action, exec: { kind: "nodejs:20", binary: true } }).exec).toEqual({ kind: "nodejs:20", binary: true });
  });
});
