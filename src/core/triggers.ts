// Triggers and rules: documents, the rule map a trigger keeps (the single
// source of a rule's status, as in OpenWhisk), fire arguments and the
// trigger's activation record.
import semver from "semver";
import { activationResponse, buildActivation, StatusCode, type ActivationRecord } from "./activation.js";
import type { KeyValue, RuleDoc, RulePut, TriggerDoc, TriggerPut } from "./entities.js";
import { entitySummary, toRecord } from "./entities.js";
import { Messages, WhiskError } from "./errors.js";
import { isValidEntityName, strictQualifiedName, type EntityRef } from "./names.js";

export type RuleStatus = "active" | "inactive";

export interface RuleEntry {
  action: { path: string; name: string };
  status: RuleStatus;
}

export type RuleMap = Record<string, RuleEntry>;

export function createTrigger(ref: EntityRef, put: TriggerPut, now: number): TriggerDoc {
  const feed = put.annotations?.find((kv) => kv.key === "feed");
  if (feed && !isValidFeedName(feed.value)) throw new WhiskError(400, "Feed name is not valid");
  return {
    namespace: ref.namespace,
    name: ref.name,
    version: put.version ?? "0.0.1",
    publish: put.publish ?? false,
    parameters: put.parameters ?? [],
    limits: {},
    annotations: put.annotations ?? [],
    updated: now,
  };
}

export function updateTrigger(existing: TriggerDoc, put: TriggerPut, now: number): TriggerDoc {
  return {
    namespace: existing.namespace,
    name: existing.name,
    version: put.version ?? semver.inc(existing.version, "patch") ?? existing.version,
    publish: put.publish ?? existing.publish,
    parameters: put.parameters ?? existing.parameters,
    limits: {},
    annotations: put.annotations ?? existing.annotations,
    updated: now,
    ...(existing.rules ? { rules: existing.rules } : {}),
  };
}

function isValidFeedName(value: unknown): boolean {
  if (typeof value !== "string") return false;
  const parts = value.split("/").filter((p) => p.length > 0);
  return parts.length > 0 && parts.every(isValidEntityName);
}

export function triggerListItem(doc: TriggerDoc) {
  return entitySummary(doc);
}

/** `{path, name}` of an entity reference, the form rules store. */
export function pathAndName(ref: EntityRef): { path: string; name: string } {
  return { path: ref.packageName ? `${ref.namespace}/${ref.packageName}` : ref.namespace, name: ref.name };
}

export function refOfPathAndName(value: { path: string; name: string }): EntityRef {
  const [namespace, packageName] = value.path.split("/");
  return packageName ? { namespace, packageName, name: value.name } : { namespace, name: value.name };
}

export function ruleKey(namespace: string, rule: string): string {
  return `${namespace}/${rule}`;
}

/** A rule's status lives in its trigger's map; a missing trigger or entry reads as inactive. */
export function ruleStatus(trigger: TriggerDoc | undefined, key: string): RuleStatus {
  return trigger?.rules?.[key]?.status ?? "inactive";
}

export function withRule(trigger: TriggerDoc, key: string, entry: RuleEntry | undefined, now: number): TriggerDoc {
  const rules: RuleMap = { ...(trigger.rules ?? {}) };
  if (entry) rules[key] = entry;
  else delete rules[key];
  return { ...trigger, rules, updated: now };
}

/**
 * A rule reference from a PUT body: a string `/ns/[pkg/]name` (leading slash
 * optional, `_` for the caller) or an object `{path, name}`. At least the
 * namespace and the name are required.
 */
export function parseRuleReference(value: unknown, namespace: string): EntityRef {
  let text = "";
  if (typeof value === "string") text = value;
  else if (value && typeof value === "object" && "path" in value && "name" in value) {
    const { path, name } = value as { path: unknown; name: unknown };
    text = `${String(path)}/${String(name)}`;
  }
  const ref = strictQualifiedName(text, namespace);
  if (!ref) {
    throw new WhiskError(400, `${Messages.malformedJson}\nrequirement failed: ${Messages.malformedFullyQualifiedName}`);
  }
  return ref;
}

export function createRule(ref: EntityRef, put: RulePut, trigger: EntityRef, action: EntityRef, now: number): RuleDoc {
  return {
    namespace: ref.namespace,
    name: ref.name,
    version: put.version ?? "0.0.1",
    publish: put.publish ?? false,
    trigger: pathAndName(trigger),
    action: pathAndName(action),
    annotations: put.annotations ?? [],
    updated: now,
  };
}

export function updateRule(existing: RuleDoc, put: RulePut, trigger: EntityRef, action: EntityRef, now: number): RuleDoc {
  return {
    ...existing,
    version: put.version ?? semver.inc(existing.version, "patch") ?? existing.version,
    publish: put.publish ?? existing.publish,
    trigger: pathAndName(trigger),
    action: pathAndName(action),
    annotations: put.annotations ?? existing.annotations,
    updated: now,
  };
}

/** A rule as GET, PUT and DELETE answer it: the stored rule with its status. */
export function ruleWithStatus(doc: RuleDoc, status: RuleStatus) {
  const { namespace, name, ...rest } = doc;
  return { namespace, name, status, ...rest };
}

/** What each rule's action receives: trigger parameters < request headers < fire payload. */
export function fireArguments(
  triggerParams: readonly KeyValue[],
  headers: Record<string, string>,
  payload: Record<string, unknown>,
): Record<string, unknown> {
  return { ...toRecord(triggerParams), __ow_headers: headers, ...payload };
}

export interface RuleOutcome {
  rule: string;
  action: string;
  statusCode: number;
  success: boolean;
  activationId?: string;
  error?: string;
}

export function ruleOutcomeLog(outcome: RuleOutcome): string {
  const { statusCode, success, activationId, error, rule, action } = outcome;
  return JSON.stringify({ statusCode, success, ...(activationId ? { activationId } : { error }), rule, action });
}

export function inactiveRuleOutcome(rule: string, action: string): RuleOutcome {
  return { rule, action, statusCode: 1, success: false, error: Messages.triggerWithInactiveRule(rule, action) };
}

/** A trigger's activation: the payload as result, one log line per rule, no annotations, no end. */
export function triggerActivation(facts: {
  activationId: string;
  namespace: string;
  subject: string;
  name: string;
  version: string;
  start: number;
  payload: Record<string, unknown>;
  outcomes: RuleOutcome[];
}): ActivationRecord {
  const { outcomes, payload, ...who } = facts;
  return buildActivation({ ...who, response: activationResponse(StatusCode.success, payload), logs: outcomes.map(ruleOutcomeLog) });
}
