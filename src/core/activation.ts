// Activation records: ids, the four outcomes and their status codes, and the
// JSON shape OpenWhisk clients read. Every activation id is minted here, and
// every record (actions, compositions, failures, trigger fires) is built by
// buildActivation.
import { sha256Hex } from "./digest.js";
import { Messages } from "./errors.js";
import { jsonBytes } from "./json-size.js";
import type { KeyValue } from "./entities.js";
import type { ActionLimits } from "./limits.js";
import { qualifiedName, type EntityRef } from "./names.js";

export const StatusCode = {
  success: 0,
  applicationError: 1,
  developerError: 2,
  whiskError: 3,
} as const;
export type StatusCode = (typeof StatusCode)[keyof typeof StatusCode];

const STATUS_TEXT: Record<StatusCode, string> = {
  0: "success",
  1: "application error",
  2: "action developer error",
  3: "whisk internal error",
};

export interface ActivationResponse {
  status: string;
  statusCode: StatusCode;
  success: boolean;
  result?: unknown;
}

export interface ActivationRecord {
  namespace: string;
  name: string;
  version: string;
  subject: string;
  activationId: string;
  cause?: string;
  start: number;
  /** Trigger activations have neither end nor duration. */
  end?: number;
  duration?: number;
  statusCode: StatusCode;
  response: ActivationResponse;
  logs: string[];
  annotations: KeyValue[];
  publish: boolean;
}

/** A fresh id: 32 lower-case hex digits, like OpenWhisk's ids (a UUID without dashes). */
export function newActivationId(randomUUID: () => string = () => crypto.randomUUID()): string {
  return randomUUID().replaceAll("-", "");
}

/**
 * The id of the activation `key` of activation `parentId` starts, the same
 * every time: work redone after a redelivery finds the activations it
 * started before instead of starting new ones.
 */
export async function derivedActivationId(parentId: string, key: string): Promise<string> {
  return (await sha256Hex(`${parentId}/${key}`)).slice(0, 32);
}

export function activationResponse(statusCode: StatusCode, result: unknown): ActivationResponse {
  return { status: STATUS_TEXT[statusCode], statusCode, success: statusCode === StatusCode.success, result };
}

/** A result object from the action: success, or application error when it has an `error` field. */
export function resultResponse(result: unknown): ActivationResponse {
  const hasError = result !== null && typeof result === "object" && !Array.isArray(result) && "error" in result;
  return activationResponse(hasError ? StatusCode.applicationError : StatusCode.success, result);
}

export function developerError(message: string): ActivationResponse {
  return activationResponse(StatusCode.developerError, { error: message });
}

export function whiskError(message: string): ActivationResponse {
  return activationResponse(StatusCode.whiskError, { error: message });
}

export function timeoutResponse(timeoutMs: number): ActivationResponse {
  return developerError(Messages.timedOut(timeoutMs));
}

/** HTTP status of a blocking invoke that completed with this response. */
export function blockingHttpStatus(response: ActivationResponse): number {
  switch (response.statusCode) {
    case StatusCode.success:
      return 200;
    case StatusCode.whiskError:
      return 500;
    default:
      return 502;
  }
}

export interface ActivationFacts {
  activationId: string;
  namespace: string;
  subject: string;
  /** Simple name of the action (or trigger). */
  name: string;
  version: string;
  /** `ns/pkg/name` or `ns/name` of the entity that ran; trigger activations go without (and without annotations). */
  path?: string;
  kind?: string;
  limits?: ActionLimits;
  start: number;
  /** Trigger activations have none (nor a duration). */
  end?: number;
  waitTime?: number;
  initTime?: number;
  timedOut?: boolean;
  cause?: string;
  response: ActivationResponse;
  logs: string[];
  /** Annotations beyond those derived from the facts (causedBy, binding, ...). */
  annotations?: KeyValue[];
  /** Sequences set it to the sum of their components. */
  duration?: number;
}

export function buildActivation(facts: ActivationFacts): ActivationRecord {
  const annotations: KeyValue[] = facts.path === undefined ? [] : [{ key: "path", value: facts.path }];
  if (facts.waitTime !== undefined) annotations.push({ key: "waitTime", value: facts.waitTime });
  if (facts.kind !== undefined) annotations.push({ key: "kind", value: facts.kind });
  if (facts.timedOut !== undefined) annotations.push({ key: "timeout", value: facts.timedOut });
  if (facts.limits !== undefined) annotations.push({ key: "limits", value: facts.limits });
  if (facts.initTime !== undefined) annotations.push({ key: "initTime", value: facts.initTime });
  annotations.push(...(facts.annotations ?? []));
  return {
    namespace: facts.namespace,
    name: facts.name,
    version: facts.version,
    subject: facts.subject,
    activationId: facts.activationId,
    ...(facts.cause ? { cause: facts.cause } : {}),
    start: facts.start,
    ...(facts.end !== undefined ? { end: facts.end, duration: facts.duration ?? facts.end - facts.start } : {}),
    statusCode: facts.response.statusCode,
    response: facts.response,
    logs: facts.logs,
    annotations,
    publish: false,
  };
}

/** What a request for an activation carries that its record repeats. */
export interface RecordedRequest {
  activationId: string;
  identity: { namespace: string; subject: string };
  /** When the request reached the controller (epoch ms). */
  receivedAt: number;
  cause?: string;
}

/**
 * The facts every record of a requested activation starts from: who asked,
 * for which entity (at which version), and how long it waited before `start`.
 */
export function requestedActivation(request: RecordedRequest, entity: EntityRef, version: string, start: number) {
  return {
    activationId: request.activationId,
    namespace: request.identity.namespace,
    subject: request.identity.subject,
    name: entity.name,
    version,
    path: qualifiedName(entity),
    waitTime: Math.max(0, start - request.receivedAt),
    cause: request.cause,
  } satisfies Partial<ActivationFacts>;
}

/** The list view of an activation (what `GET /activations` answers without docs). */
export function activationSummary(record: ActivationRecord): Record<string, unknown> {
  return {
    namespace: record.namespace,
    name: record.name,
    version: record.version,
    subject: record.subject,
    activationId: record.activationId,
    ...(record.cause ? { cause: record.cause } : {}),
    start: record.start,
    ...(record.end !== undefined ? { end: record.end, duration: record.duration, statusCode: record.statusCode } : {}),
    publish: record.publish,
    annotations: record.annotations,
  };
}

/** The size of a result's JSON in UTF-8 bytes, which the result size limit counts. */
export function resultSize(result: unknown): number {
  return jsonBytes(result);
}
