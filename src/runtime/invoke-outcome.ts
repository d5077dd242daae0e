// What an invoker answers a controller across the host boundary (a Durable
// Object RPC on Cloudflare, HTTP JSON on Kubernetes): the activation's
// outcome, or the WhiskError the controller is to answer instead, with its
// status, message and headers (a 401's WWW-Authenticate, a 405's Allow).
import type { ActivationRecord } from "../core/activation.js";
import { WhiskError } from "../core/errors.js";
import type { WebOutcome } from "../ports/invokers.js";

/** A WhiskError as it crosses the boundary. */
export interface WireError {
  error: { status: number; message: string; headers?: Record<string, string> };
}

/** An invoker's answer: what `T` the work produced, or the error to answer. */
export type Outcome<T extends object> = T | WireError;
/** The answer to an invoke. */
export type InvokeOutcome = Outcome<{ record: ActivationRecord }>;
/** The answer to a web invoke. */
export type WebInvokeOutcome = Outcome<WebOutcome>;

export function encodeError(err: WhiskError): WireError {
  // Headers only when there are some: the answer of an invoker that sends
  // none reads the same to controllers of either version during a rollout.
  const headers = Object.keys(err.headers).length > 0 ? { headers: { ...err.headers } } : {};
  return { error: { status: err.status, message: err.message, ...headers } };
}

/**
 * Runs the invoker's side of a call: its result, or the WhiskError it threw
 * encoded. Any other failure is the invoker's own and propagates.
 */
export async function encodeOutcome<T extends object>(work: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof WhiskError) return encodeError(err);
    throw err;
  }
}

/** The record of an invoke, or the WhiskError the invoker answered thrown. */
export function decodeInvokeOutcome(answer: unknown): ActivationRecord {
  const outcome = decodeOutcome(answer);
  if (!isObject(outcome.record)) throw malformed(answer);
  return outcome.record as unknown as ActivationRecord;
}

/** The outcome of a web invoke, or the WhiskError the invoker answered thrown. */
export function decodeWebOutcome(answer: unknown): WebOutcome {
  const outcome = decodeOutcome(answer);
  if (outcome.kind === "options") return { kind: "options" };
  if (outcome.kind === "record" && isObject(outcome.record) && typeof outcome.customOptions === "boolean") return outcome as unknown as WebOutcome;
  throw malformed(answer);
}

/**
 * An answer that is not an outcome is a fault between the platform's own
 * components: a plain Error, which the API answers as its internal error (500),
 * as it did before there was a codec to notice.
 */
function decodeOutcome(answer: unknown): Record<string, unknown> {
  if (!isObject(answer)) throw malformed(answer);
  if (!("error" in answer)) return answer;
  const { error } = answer;
  if (!isObject(error) || !isStatus(error.status) || typeof error.message !== "string") throw malformed(answer);
  if (error.headers !== undefined && !isHeaders(error.headers)) throw malformed(answer);
  throw new WhiskError(error.status, error.message, error.headers ?? {});
}

function malformed(answer: unknown): Error {
  let text: string;
  try {
    text = JSON.stringify(answer) ?? String(answer);
  } catch {
    text = String(answer);
  }
  return new Error(`the invoker answered no outcome: ${text.slice(0, 200)}`);
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const isStatus = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 100 && (value as number) <= 599;

const isHeaders = (value: unknown): value is Record<string, string> =>
  isObject(value) && Object.values(value).every((header) => typeof header === "string");
