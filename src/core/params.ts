// Parameter precedence, final parameters and init parameters.
import { Messages, WhiskError } from "./errors.js";
import type { KeyValue } from "./entities.js";

/**
 * Merges parameter lists, lowest precedence first: package < binding < action.
 * A later list replaces an earlier one's value for the same key (including
 * its init flag), keeping first-seen key order.
 */
export function mergeParams(...layers: (readonly KeyValue[] | undefined)[]): KeyValue[] {
  const merged = new Map<string, KeyValue>();
  for (const layer of layers) for (const kv of layer ?? []) merged.set(kv.key, kv);
  return [...merged.values()];
}

/** Names the invocation may not override: the defined parameters of an action annotated `final`. */
export function immutableParams(annotations: readonly KeyValue[], params: readonly KeyValue[]): Set<string> {
  if (annotations.find((kv) => kv.key === "final")?.value !== true) return new Set();
  return new Set(params.filter((kv) => kv.value !== null && kv.value !== undefined).map((kv) => kv.key));
}

export function assertNoImmutableOverride(payload: Record<string, unknown>, immutable: Set<string>): void {
  if (Object.keys(payload).some((key) => immutable.has(key))) {
    throw new WhiskError(400, Messages.parametersNotAllowed);
  }
}

export interface SplitParams {
  /** What main() receives: action defaults overlaid with the invocation's values. */
  run: Record<string, unknown>;
  /** Parameters marked init, given to the runtime as environment at initialisation. */
  init: Record<string, unknown>;
}

/** Splits merged parameters as the invoker hands them to the runtime: init ones go to the environment. */
export function runtimeParams(defaults: readonly KeyValue[], payload: Record<string, unknown>): SplitParams {
  const initKeys = new Set(defaults.filter((kv) => kv.init).map((kv) => kv.key));
  const run: Record<string, unknown> = {};
  const init: Record<string, unknown> = {};
  for (const kv of defaults) (initKeys.has(kv.key) ? init : run)[kv.key] = kv.value;
  for (const [key, value] of Object.entries(payload)) (initKeys.has(key) ? init : run)[key] = value;
  return { run, init };
}
