// The entity model: what clients send (Put bodies, validated with zod) and the
// documents the API stores and answers with, shaped as OpenWhisk's JSON.
import { z } from "zod";
import type { ActionLimits } from "./limits.js";
import type { EntityRef } from "./names.js";

export interface KeyValue {
  key: string;
  value: unknown;
  init?: boolean;
}

/** Code as clients send and read it. */
export interface CodeExec {
  kind: string;
  code: string;
  binary: boolean;
  main?: string;
}

/** Code as the store keeps it: the code itself lives apart, by digest (never inline). */
export interface StoredCodeExec {
  kind: string;
  binary: boolean;
  main?: string;
  code?: never;
}

export interface SequenceExec {
  kind: "sequence";
  components: string[];
}

/** An action's exec as the API carries it. */
export type Exec = CodeExec | SequenceExec;
/** An action's exec as the store keeps it. */
export type StoredExec = StoredCodeExec | SequenceExec;

/** Fields every OpenWhisk entity document has. `namespace` is `ns` or `ns/pkg`. */
export interface EntityDoc {
  namespace: string;
  name: string;
  version: string;
  publish: boolean;
  annotations: KeyValue[];
  updated: number;
}

/** An action: with its code (`Exec`) as the API answers it, without (`StoredExec`) as stored. */
export interface ActionDoc<E extends Exec | StoredExec = Exec> extends EntityDoc {
  exec: E;
  parameters: KeyValue[];
  limits: ActionLimits;
}

export type StoredActionDoc = ActionDoc<StoredExec>;

export interface PackageDoc extends EntityDoc {
  binding: { namespace: string; name: string } | Record<string, never>;
  parameters: KeyValue[];
}

export interface TriggerDoc extends EntityDoc {
  parameters: KeyValue[];
  limits: Record<string, never>;
  rules?: Record<string, { action: { path: string; name: string }; status: "active" | "inactive" }>;
}

/** Stored without a status: that lives in the trigger's rule map. */
export interface RuleDoc extends EntityDoc {
  trigger: { path: string; name: string };
  action: { path: string; name: string };
}

/** The document each collection stores. */
export interface CollectionDocs {
  actions: StoredActionDoc;
  packages: PackageDoc;
  triggers: TriggerDoc;
  rules: RuleDoc;
}

export type Collection = keyof CollectionDocs;

export type AnyEntityDoc = CollectionDocs[Collection];

/** An entity to write: its document typed by its collection; the store assigns the revision. */
export interface EntityDraft<C extends Collection = Collection> {
  collection: C;
  ref: EntityRef;
  doc: CollectionDocs[C];
  /** Where an action's code lives (actions with code only). */
  codeDigest?: string;
}

/**
 * An entity as the store holds it, discriminated by `collection`, with the
 * store's revision of it (for detecting concurrent changes).
 */
export type StoredEntity<C extends Collection = Collection> = Extract<AnyStoredEntity, { collection: C }>;

type AnyStoredEntity = { [K in Collection]: EntityDraft<K> & { rev: number } }[Collection];

/** The reads entity resolution needs from a store. */
export interface EntityReader {
  getEntity(ref: EntityRef): Promise<StoredEntity | undefined>;
}

/** Narrows a stored entity to a collection's type. */
export function isOfCollection<C extends Collection>(entity: StoredEntity, collection: C): entity is StoredEntity<C> {
  return entity.collection === collection;
}

export function isSequence(exec: Exec | StoredExec): exec is SequenceExec {
  return exec.kind === "sequence";
}

/** An exec that carries its code (as the API has it, never as stored). */
export function carriesCode(exec: Exec | StoredExec): exec is CodeExec {
  return "code" in exec && typeof exec.code === "string";
}

// ---- request bodies -------------------------------------------------------

const keyValue = z.object({ key: z.string(), value: z.unknown(), init: z.boolean().optional() }).strip();
export const KeyValueList = z.array(keyValue).transform((list): KeyValue[] =>
  list.map((kv) => ({ key: kv.key, value: kv.value ?? null, ...(kv.init ? { init: true } : {}) })),
);

const wholeNumber = (what: string) =>
  z.number({ error: `${what} limit malformed` }).refine(Number.isInteger, `${what} limit must be whole number`);

export const LimitsPut = z
  .object({
    timeout: wholeNumber("time").optional(),
    memory: wholeNumber("memory").optional(),
    logs: wholeNumber("log").optional(),
    concurrency: wholeNumber("concurrency").optional(),
  })
  .strip();

export const ExecPut = z
  .object({
    kind: z.string({ error: "'kind' must be a string defined in 'exec'" }),
    code: z.string().optional(),
    main: z.string({ error: "if defined, 'main' be a string in 'exec'" }).optional(),
    binary: z.boolean().optional(),
    components: z.array(z.unknown()).optional(),
    image: z.string().optional(),
  })
  .strip();

const INT_MAX = 2 ** 31 - 1;

/**
 * A version as OpenWhisk reads one: up to three dot-separated whole numbers,
 * missing parts 0 and parts past the third ignored ("1" is 1.0.0), never
 * negative or 0.0.0. Undefined when the text is not one.
 */
export function normalizeSemVer(text: string): string | undefined {
  const parts = text === "" ? [] : text.split(".");
  const numbers = [0, 1, 2].map((i) => (i < parts.length ? parts[i] : "0"));
  if (!numbers.every((part) => /^\+?\d+$/.test(part) && Number(part) <= INT_MAX)) return undefined;
  const [major, minor, patch] = numbers.map(Number);
  if (major === 0 && minor === 0 && patch === 0) return undefined;
  return `${major}.${minor}.${patch}`;
}

const SemVerPut = z.string().transform((text, ctx) => {
  const version = normalizeSemVer(text);
  if (version === undefined) {
    ctx.addIssue({ code: "custom", message: "semantic version malformed" });
    return z.NEVER;
  }
  return version;
});

export const ActionPut = z
  .object({
    exec: ExecPut.optional(),
    parameters: KeyValueList.optional(),
    annotations: KeyValueList.optional(),
    limits: LimitsPut.optional(),
    version: SemVerPut.optional(),
    publish: z.boolean().optional(),
    delAnnotations: z.array(z.string()).optional(),
  })
  .strip();
export type ActionPut = z.infer<typeof ActionPut>;

export const PackagePut = z
  .object({
    binding: z.object({ namespace: z.string(), name: z.string() }).strip().or(z.object({}).strict()).optional(),
    parameters: KeyValueList.optional(),
    annotations: KeyValueList.optional(),
    version: SemVerPut.optional(),
    publish: z.boolean().optional(),
  })
  .strip();
export type PackagePut = z.infer<typeof PackagePut>;

export const TriggerPut = z
  .object({
    parameters: KeyValueList.optional(),
    annotations: KeyValueList.optional(),
    limits: z.object({}).passthrough().optional(),
    version: SemVerPut.optional(),
    publish: z.boolean().optional(),
  })
  .strip();
export type TriggerPut = z.infer<typeof TriggerPut>;

export const RulePut = z
  .object({
    trigger: z.unknown().optional(),
    action: z.unknown().optional(),
    annotations: KeyValueList.optional(),
    version: SemVerPut.optional(),
    publish: z.boolean().optional(),
  })
  .strip();
export type RulePut = z.infer<typeof RulePut>;

export const RuleStatusPost = z
  .object({
    status: z
      .string()
      .transform((s) => s.trim())
      .pipe(
        z.enum(["active", "inactive"], {
          error: (issue) => `requirement failed: ${String(issue.input)} is not a recognized rule state`,
        }),
      ),
  })
  .strip();

/** The fields every collection's list shows of an entity. */
export function entitySummary(doc: EntityDoc) {
  return {
    namespace: doc.namespace,
    name: doc.name,
    version: doc.version,
    publish: doc.publish,
    annotations: doc.annotations,
    updated: doc.updated,
  };
}

// ---- key/value helpers ----------------------------------------------------

export function getAnnotation(list: readonly KeyValue[] | undefined, key: string): unknown {
  return list?.find((kv) => kv.key === key)?.value;
}

/** Web annotations (web-export, raw-http, web-custom-options, final) count only as the boolean true, as in OpenWhisk. */
export function isTrueAnnotation(list: readonly KeyValue[] | undefined, key: string): boolean {
  return getAnnotation(list, key) === true;
}

/** OpenWhisk's truthiness (conductor, provide-api-key): anything but false, 0, "" and null; absent as given. */
export function isTruthyAnnotation(list: readonly KeyValue[] | undefined, key: string, whenAbsent = false): boolean {
  const found = list?.find((kv) => kv.key === key);
  if (!found) return whenAbsent;
  const value = found.value;
  return !(value === null || value === false || value === 0 || value === "");
}

export function toRecord(list: readonly KeyValue[] | undefined): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const kv of list ?? []) record[kv.key] = kv.value;
  return record;
}
