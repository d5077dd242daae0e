// Building action documents from PUT bodies: create with defaults, update by
// merging onto the stored action, as OpenWhisk's controller does.
import semver from "semver";
import {
  carriesCode,
  isSequence,
  type ActionDoc,
  type ActionPut,
  type Exec,
  type KeyValue,
  type StoredActionDoc,
  type StoredExec,
} from "./entities.js";
import { Messages, WhiskError } from "./errors.js";
import { resolveKind, SEQUENCE_KIND } from "./kinds.js";
import { DEFAULT_ACTION_LIMITS, LIMITS, limitViolation, type ActionLimits } from "./limits.js";
import { entityPath, type EntityRef } from "./names.js";

const BASE64 = /^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)$/;

/** OpenWhisk decides `binary` itself: code that is valid base64 is an archive. */
export function isBinaryCode(code: string): boolean {
  const trimmed = code.trim();
  return trimmed.length > 0 && trimmed.length % 4 === 0 && BASE64.test(trimmed);
}

const byteLength = (text: string) => new TextEncoder().encode(text).length;

function kvSize(list: readonly KeyValue[] | undefined): number {
  return (list ?? []).reduce((sum, kv) => sum + byteLength(kv.key) + byteLength(JSON.stringify(kv.value ?? null)), 0);
}

export function assertPutSizes(put: { exec?: { code?: string }; parameters?: KeyValue[]; annotations?: KeyValue[] }) {
  const codeSize = put.exec?.code === undefined ? 0 : byteLength(put.exec.code);
  if (codeSize > LIMITS.codeBytes) throw new WhiskError(413, Messages.entityTooBig("exec", codeSize, LIMITS.codeBytes));
  for (const field of ["parameters", "annotations"] as const) {
    const size = kvSize(put[field]);
    if (size > LIMITS.parametersBytes) {
      throw new WhiskError(413, Messages.entityTooBig(field, size, LIMITS.parametersBytes));
    }
  }
}

function malformed(message: string): WhiskError {
  return new WhiskError(400, `${Messages.malformedJson}\n${message}`);
}

/** Validates the exec of a PUT. Sequence components are checked by the caller (they need the store). */
export function execFromPut(put: NonNullable<ActionPut["exec"]>): Exec {
  const kind = put.kind.trim().toLowerCase();
  if (kind === SEQUENCE_KIND) {
    if (!put.components) throw malformed("'components' must be defined for sequence kind");
    return { kind: SEQUENCE_KIND, components: put.components as string[] };
  }
  const resolved = resolveKind(kind);
  if (typeof put.code !== "string") throw malformed(`'code' must be a string defined in 'exec' for '${kind}' actions`);
  return {
    kind: resolved,
    code: put.code,
    binary: isBinaryCode(put.code),
    ...(put.main !== undefined ? { main: put.main } : {}),
  };
}

export function limitsFromPut(put: ActionPut["limits"], base: ActionLimits = DEFAULT_ACTION_LIMITS): ActionLimits {
  const limits = { ...base, ...Object.fromEntries(Object.entries(put ?? {}).filter(([, v]) => v !== undefined)) };
  for (const field of ["timeout", "memory", "logs", "concurrency"] as const) {
    if (put?.[field] === undefined) continue;
    const violation = limitViolation(field, limits[field]);
    if (violation) throw new WhiskError(400, violation);
  }
  return limits;
}

function mergeAnnotations(base: readonly KeyValue[], added: readonly KeyValue[] | undefined): KeyValue[] {
  const merged = new Map<string, KeyValue>();
  for (const kv of [...base, ...(added ?? [])]) merged.set(kv.key, { key: kv.key, value: kv.value });
  return [...merged.values()];
}

/** Adds what OpenWhisk adds: `provide-api-key: false` on create when absent, and `exec: <kind>` always. */
function amendAnnotations(annotations: KeyValue[], exec: Exec | StoredExec, create: boolean): KeyValue[] {
  let amended = annotations;
  if (create && !amended.some((kv) => kv.key === "provide-api-key")) {
    amended = [...amended, { key: "provide-api-key", value: false }];
  }
  return [...amended.filter((kv) => kv.key !== "exec"), { key: "exec", value: exec.kind }];
}

function sequenceParams(exec: Exec | StoredExec): KeyValue[] {
  return isSequence(exec) ? [{ key: "_actions", value: exec.components }] : [];
}

export function createAction(ref: EntityRef, put: ActionPut, exec: Exec | undefined, now: number): ActionDoc {
  if (!exec) throw new WhiskError(400, "exec undefined");
  const isSeq = exec.kind === SEQUENCE_KIND;
  return {
    namespace: entityPath(ref),
    name: ref.name,
    version: put.version ?? "0.0.1",
    publish: put.publish ?? false,
    exec,
    parameters: isSeq ? sequenceParams(exec) : (put.parameters ?? []),
    limits: limitsFromPut(put.limits),
    annotations: amendAnnotations(mergeAnnotations([], put.annotations), exec, true),
    updated: now,
  };
}

/** Merges a PUT onto an action; without a new exec it keeps the one it had (as stored: without code). */
export function updateAction<E extends Exec | StoredExec>(
  existing: ActionDoc<E>,
  put: ActionPut,
  exec: Exec | undefined,
  now: number,
): ActionDoc<E | Exec> {
  const newExec: E | Exec = exec ?? existing.exec;
  const wasSeq = existing.exec.kind === SEQUENCE_KIND;
  let parameters: KeyValue[];
  if (exec) {
    parameters = exec.kind === SEQUENCE_KIND ? sequenceParams(exec) : (put.parameters ?? (wasSeq ? [] : existing.parameters));
  } else {
    parameters = wasSeq ? existing.parameters : (put.parameters ?? existing.parameters);
  }
  const kept = existing.annotations.filter((kv) => !(put.delAnnotations ?? []).includes(kv.key));
  return {
    namespace: existing.namespace,
    name: existing.name,
    version: put.version ?? semver.inc(existing.version, "patch") ?? existing.version,
    publish: put.publish ?? existing.publish,
    exec: newExec,
    parameters,
    limits: limitsFromPut(put.limits, existing.limits),
    annotations: amendAnnotations(mergeAnnotations(kept, put.annotations), newExec, false),
    updated: now,
  };
}

/** The action without its code: as the store keeps it (the code apart, by digest) and `?code=false` shows it. */
export function withoutCode(doc: ActionDoc<Exec | StoredExec>): StoredActionDoc {
  if (!carriesCode(doc.exec)) return { ...doc, exec: doc.exec };
  const { code: _code, ...exec } = doc.exec;
  return { ...doc, exec };
}
