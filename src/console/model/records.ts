// What the console reads of OpenWhisk activation records (the list API's
// summaries and whole records alike). Pure: runs in the browser and in tests.

export interface KeyValue {
  key: string;
  value: unknown;
}

export interface ActivationView {
  activationId: string;
  name: string;
  namespace: string;
  start: number;
  end?: number;
  duration?: number;
  statusCode?: number;
  cause?: string;
  annotations?: KeyValue[];
  logs?: string[];
  response?: { status?: string; statusCode?: number; success?: boolean; result?: unknown };
}

export function annotation(record: { annotations?: KeyValue[] }, key: string): unknown {
  return record.annotations?.find((a) => a.key === key)?.value;
}

/** OpenWhisk's status names by the record's statusCode. */
export const STATUS_NAMES = ["success", "application error", "developer error", "whisk internal error"] as const;

/** Records are written when an activation ends; a trigger's has no end and no status of its own. */
export function statusName(record: ActivationView): string {
  if (record.statusCode === undefined) return "–";
  return STATUS_NAMES[record.statusCode] ?? `status ${record.statusCode}`;
}

/** A record with an initTime annotation started its isolate (cold); the others ran in a warm one. */
export function startKind(record: ActivationView): "cold" | "warm" | undefined {
  if (record.end === undefined) return undefined;
  // A sequence or a conductor ran no isolate of its own: its components say.
  if (annotation(record, "kind") === "sequence" || annotation(record, "conductor") === true) return undefined;
  return typeof annotation(record, "initTime") === "number" ? "cold" : "warm";
}

/** The record's duration: the field when present, else end - start. */
export function durationOf(record: ActivationView): number | undefined {
  if (typeof record.duration === "number") return record.duration;
  return record.end === undefined ? undefined : record.end - record.start;
}
