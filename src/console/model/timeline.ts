// The timeline of an activation made of others: a sequence's or a
// conductor's components (their ids are the record's `logs`) and a trigger's
// rule activations (its `logs` are JSON lines naming each rule's activation).
// Turns the records into a waterfall: where each bar starts and ends relative
// to the first, with its wait and init time.
import { annotation, durationOf, type ActivationView } from "./records.js";

const ACTIVATION_ID = /^[0-9a-f]{32}$/;

/** One rule's line in a trigger activation's logs. */
export interface RuleOutcome {
  rule?: string;
  action?: string;
  activationId?: string;
  statusCode?: number;
  success?: boolean;
  error?: string;
}

export type Composition =
  | { kind: "components"; ids: string[] }
  | { kind: "rules"; outcomes: RuleOutcome[] }
  | { kind: "none" };

/** What the record's logs link to, if it is made of other activations. */
export function compositionOf(record: ActivationView): Composition {
  const logs = record.logs ?? [];
  if (logs.length === 0) return { kind: "none" };
  if (logs.every((line) => ACTIVATION_ID.test(line))) return { kind: "components", ids: logs };
  const outcomes: RuleOutcome[] = [];
  for (const line of logs) {
    try {
      const parsed = JSON.parse(line) as RuleOutcome;
      if (!parsed || typeof parsed !== "object" || (!("rule" in parsed) && !("activationId" in parsed))) return { kind: "none" };
      outcomes.push(parsed);
    } catch {
      return { kind: "none" };
    }
  }
  return { kind: "rules", outcomes };
}

export interface WaterfallRow {
  activationId: string;
  /** The component's name, or for a rule activation `rule → action`. */
  label: string;
  /** Milliseconds from the first bar's start. */
  offset: number;
  duration: number;
  waitTime?: number;
  initTime?: number;
  statusCode?: number;
  /** The id of an activation that was not found (not recorded, or gone). */
  missing?: boolean;
}

export interface Waterfall {
  /** From the earliest start to the latest end, in ms. */
  span: number;
  rows: WaterfallRow[];
}

/**
 * Places each component (in the order given) against the parent's start, or
 * the earliest start among them when that is earlier (a trigger's rule
 * activations may start before its own record is written). Ids without a
 * record come out as `missing` rows at the end of the span.
 */
export function waterfall(
  parent: ActivationView,
  components: readonly { id: string; label?: string; record?: ActivationView }[],
): Waterfall {
  const starts = [parent.start, ...components.flatMap((c) => (c.record ? [c.record.start] : []))];
  const origin = Math.min(...starts);
  const rows: WaterfallRow[] = components.map(({ id, label, record }) => {
    if (!record) return { activationId: id, label: label ?? id, offset: 0, duration: 0, missing: true };
    const wait = annotation(record, "waitTime");
    const init = annotation(record, "initTime");
    return {
      activationId: id,
      label: label ?? record.name,
      offset: record.start - origin,
      duration: durationOf(record) ?? 0,
      ...(typeof wait === "number" ? { waitTime: wait } : {}),
      ...(typeof init === "number" ? { initTime: init } : {}),
      ...(record.statusCode !== undefined ? { statusCode: record.statusCode } : {}),
    };
  });
  const parentEnd = (durationOf(parent) ?? 0) + parent.start - origin;
  const span = Math.max(1, parentEnd, ...rows.map((r) => r.offset + r.duration));
  return { span, rows };
}
