// Entity documents and activation records for tests that arrange a store
// directly (no API in between), shaped as the API stores them: action code
// kept apart by digest, sequences and triggers as their documents hold them.
import { buildActivation, resultResponse, type ActivationRecord, type ActivationResponse } from "../../src/core/activation.js";
import { sha256Hex } from "../../src/core/digest.js";
import type { ActionDoc, EntityDraft, EntityReader, KeyValue, PackageDoc, StoredActionDoc, TriggerDoc } from "../../src/core/entities.js";
import { withoutCode } from "../../src/core/actions.js";
import { DEFAULT_ACTION_LIMITS, type ActionLimits } from "../../src/core/limits.js";
import { entityPath, qualifiedName, resolveQualifiedName, type EntityRef } from "../../src/core/names.js";
import type { Store } from "../../src/ports/store.js";

/** `ns/name` or `ns/pkg/name` as a ref. */
export function ref(path: string): EntityRef {
  const parsed = resolveQualifiedName(path.startsWith("/") ? path : `/${path}`, "_");
  if (!parsed) throw new Error(`not an entity path: ${path}`);
  return parsed;
}

const base = (entity: EntityRef, updated: number) => ({
  namespace: entityPath(entity),
  name: entity.name,
  version: "0.0.1",
  publish: false,
  updated,
});

export interface ActionOptions {
  code?: string;
  main?: string;
  annotations?: KeyValue[];
  parameters?: KeyValue[];
  limits?: Partial<ActionLimits>;
  version?: string;
  updated?: number;
}

/** A nodejs action's document with its code inline (as a PUT body makes it). */
export function actionDoc(entity: EntityRef, options: ActionOptions = {}): ActionDoc {
  return {
    ...base(entity, options.updated ?? Date.now()),
    ...(options.version ? { version: options.version } : {}),
    exec: {
      kind: "nodejs:20",
      code: options.code ?? "function main(params) { return params; }",
      binary: false,
      ...(options.main ? { main: options.main } : {}),
    },
    parameters: options.parameters ?? [],
    limits: { ...DEFAULT_ACTION_LIMITS, ...options.limits },
    annotations: [{ key: "exec", value: "nodejs:20" }, ...(options.annotations ?? [])],
  };
}

export function sequenceDoc(entity: EntityRef, components: string[], updated = Date.now()): StoredActionDoc {
  return {
    ...base(entity, updated),
    exec: { kind: "sequence", components },
    parameters: [{ key: "_actions", value: components }],
    limits: { ...DEFAULT_ACTION_LIMITS },
    annotations: [{ key: "exec", value: "sequence" }],
  };
}

export function packageDoc(
  entity: EntityRef,
  options: { publish?: boolean; binding?: EntityRef; parameters?: KeyValue[]; updated?: number } = {},
): PackageDoc {
  return {
    ...base(entity, options.updated ?? Date.now()),
    publish: options.publish ?? false,
    binding: options.binding ? { namespace: options.binding.namespace, name: options.binding.name } : {},
    parameters: options.parameters ?? [],
    annotations: [],
  };
}

/** A trigger whose rule map sends each rule to an action (`ns/name` or `ns/pkg/name`), active unless said. */
export function triggerDoc(
  entity: EntityRef,
  rules: Record<string, { action: string; status?: "active" | "inactive" }> = {},
  parameters: KeyValue[] = [],
): TriggerDoc {
  const map: NonNullable<TriggerDoc["rules"]> = {};
  for (const [rule, { action, status }] of Object.entries(rules)) {
    const target = ref(action);
    map[rule] = { action: { path: entityPath(target), name: target.name }, status: status ?? "active" };
  }
  return { ...base(entity, Date.now()), parameters, limits: {}, annotations: [], rules: map };
}

/** An action as the API stores it: the document without code, the code as a blob by digest. */
export async function storedAction(entity: EntityRef, options: ActionOptions = {}): Promise<{ entity: EntityDraft<"actions">; code: { digest: string; text: string } }> {
  const doc = actionDoc(entity, options);
  const exec = doc.exec as { code: string };
  const digest = await sha256Hex(exec.code);
  return {
    entity: { collection: "actions", ref: entity, doc: withoutCode(doc), codeDigest: digest },
    code: { digest, text: exec.code },
  };
}

/** Creates an action in the store (its code kept by digest); fails the test when the name is taken. */
export async function putAction(store: Store, path: string, options: ActionOptions = {}): Promise<EntityRef> {
  const { entity, code } = await storedAction(ref(path), options);
  if (!(await store.createEntity(entity, code))) throw new Error(`${path} exists already`);
  return entity.ref;
}

export async function putEntity(store: Store, entity: EntityDraft): Promise<void> {
  if (!(await store.createEntity(entity))) throw new Error(`${qualifiedName(entity.ref)} exists already`);
}

/** A reader of `store`'s entities that counts its reads (`counter.reads`), for the caches that spare them. */
export function countingReader(store: EntityReader): { reader: EntityReader; counter: { reads: number } } {
  const counter = { reads: 0 };
  const reader: EntityReader = {
    getEntity: (entity: EntityRef) => {
      counter.reads++;
      return store.getEntity(entity);
    },
  };
  return { reader, counter };
}

/** A finished action activation, as an invoker records it. */
export function activationRecord(facts: {
  activationId: string;
  namespace: string;
  name: string;
  /** `ns/name` or `ns/pkg/name`; defaults to the namespace and name. */
  path?: string;
  start: number;
  end?: number;
  response?: ActivationResponse;
  logs?: string[];
}): ActivationRecord {
  return buildActivation({
    activationId: facts.activationId,
    namespace: facts.namespace,
    subject: facts.namespace,
    name: facts.name,
    version: "0.0.1",
    path: facts.path ?? `${facts.namespace}/${facts.name}`,
    kind: "nodejs:20",
    start: facts.start,
    end: facts.end ?? facts.start + 5,
    response: facts.response ?? resultResponse({ ok: true }),
    logs: facts.logs ?? [],
  });
}
