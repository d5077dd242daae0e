// The invoker's answer to a controller as it crosses the host boundary: a
// WhiskError arrives as the same WhiskError, headers included, and anything
// else an invoker might send back is an internal failure, not a client error.
import { describe, expect, it } from "vitest";
import type { ActivationRecord } from "../../src/core/activation.js";
import { WhiskError } from "../../src/core/errors.js";
import {
  decodeInvokeOutcome,
  decodeWebOutcome,
  encodeError,
  encodeOutcome,
} from "../../src/runtime/invoke-outcome.js";

const record = { namespace: "guest", name: "hello", activationId: "a1", response: { status: "success" } } as unknown as ActivationRecord;

/** What the other side sees: the JSON an HTTP hop carries (an RPC's structured clone keeps no more). */
const overTheWire = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

async function caught(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected a throw");
}

describe("an invoke outcome over the wire", () => {
  it("carries a record", async () => {
    const wire = overTheWire(await encodeOutcome(async () => ({ record })));
    expect(decodeInvokeOutcome(wire)).toEqual(record);
  });

  it("carries a WhiskError's status, message and headers such as WWW-Authenticate", async () => {
    const challenge = { "WWW-Authenticate": 'Basic realm="whisk rest service"' };
    const wire = overTheWire(
      await encodeOutcome(async () => {
        throw new WhiskError(401, "The resource requires authentication", challenge);
      }),
    );
    const err = await caught(() => decodeInvokeOutcome(wire));
    expect(err).toBeInstanceOf(WhiskError);
    expect(err).toMatchObject({ status: 401, message: "The resource requires authentication", headers: challenge });
  });

  it("keeps the wire shape of an error without headers as it was", () => {
    expect(encodeError(new WhiskError(404, "The requested resource does not exist."))).toEqual({
      error: { status: 404, message: "The requested resource does not exist." },
    });
  });

  it("decodes an error sent without headers (an older invoker) to a WhiskError with none", async () => {
    const err = await caught(() => decodeWebOutcome({ error: { status: 503, message: "System is overloaded, try again later." } }));
    expect(err).toBeInstanceOf(WhiskError);
    expect(err).toMatchObject({ status: 503, headers: {} });
  });

  it("lets a failure other than a WhiskError propagate from the invoker's side", async () => {
    await expect(
      encodeOutcome(async () => {
        throw new TypeError("boom");
      }),
    ).rejects.toThrow(TypeError);
  });

  it("carries both kinds of web outcome", async () => {
    const options = overTheWire(await encodeOutcome(async () => ({ kind: "options" as const })));
    expect(decodeWebOutcome(options)).toEqual({ kind: "options" });
    const ran = overTheWire(await encodeOutcome(async () => ({ kind: "record" as const, record, customOptions: true })));
    expect(decodeWebOutcome(ran)).toEqual({ kind: "record", record, customOptions: true });
  });

  it("decodes an error on the web path with its headers", async () => {
    const wire = overTheWire(encodeError(new WhiskError(405, "HTTP method not allowed", { Allow: "GET, POST" })));
    const err = await caught(() => decodeWebOutcome(wire));
    expect(err).toMatchObject({ status: 405, headers: { Allow: "GET, POST" } });
  });

  it.each([
    ["nothing", undefined],
    ["null", null],
    ["a string", "ok"],
    ["an array", [record]],
    ["an object with no record", { result: 1 }],
    ["an error with no status", { error: { message: "x" } }],
    ["an error with a status out of range", { error: { status: 42, message: "x" } }],
    ["an error with a non-numeric status", { error: { status: "401", message: "x" } }],
    ["an error with no message", { error: { status: 400 } }],
    ["an error whose headers are not strings", { error: { status: 401, message: "x", headers: { "WWW-Authenticate": 1 } } }],
    ["an error that is a string", { error: "The supplied authentication is invalid" }],
  ])("answers %s as an internal failure, not a WhiskError", async (_, answer) => {
    const err = await caught(() => decodeInvokeOutcome(answer));
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(WhiskError);
    expect((err as Error).message).toMatch(/^the invoker answered no outcome/);
  });

  it.each([
    ["an unknown kind", { kind: "redirect" }],
    ["a record kind with no record", { kind: "record", customOptions: false }],
    ["a record kind without customOptions", { kind: "record", record }],
  ])("answers a web outcome of %s as an internal failure", async (_, answer) => {
    const err = await caught(() => decodeWebOutcome(answer));
    expect(err).not.toBeInstanceOf(WhiskError);
    expect((err as Error).message).toMatch(/^the invoker answered no outcome/);
  });
});
