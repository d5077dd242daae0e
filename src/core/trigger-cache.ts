// The triggers a controller fired lately, kept for the next fires: a fire
// reads its trigger (its rule map and parameters) before anything else, and
// a busy trigger is fired many times a second. OpenWhisk's controllers cache
// triggers too, forgetting one when they write it and telling the others.
// Here the controller that writes a trigger (a trigger PUT or DELETE, or a
// rule change, which rewrites its trigger's rule map) forgets it at once;
// other controllers (other Worker isolates, other Node controllers) keep
// their copy at most TRIGGER_CACHE_TTL_MS, so there a fire may still follow
// a rule disabled within that time.
import { ReadThroughCache } from "./cache.js";
import type { EntityReader, StoredEntity } from "./entities.js";
import { getEntityOf } from "./entity-reads.js";
import { qualifiedName, type EntityRef } from "./names.js";

/** How long a fired trigger is used without reading the store again (as short as verified keys are kept, src/api/auth.ts). */
export const TRIGGER_CACHE_TTL_MS = 1_000;

export class TriggerCache {
  private readonly entries: ReadThroughCache<StoredEntity<"triggers">>;

  constructor(options: { ttlMs?: number; maxEntries?: number; now?: () => number } = {}) {
    this.entries = new ReadThroughCache(options.ttlMs ?? TRIGGER_CACHE_TTL_MS, options.maxEntries ?? 256, options.now);
  }

  /** The trigger at `ref`, with getEntityOf's 404 and 409; only triggers found are kept. */
  get(reader: EntityReader, ref: EntityRef): Promise<StoredEntity<"triggers">> {
    return this.entries.get(qualifiedName(ref), () => getEntityOf(reader, "triggers", ref));
  }

  /** Forgets these triggers; call it once their write has ended, whether it succeeded or not. */
  forget(refs: EntityRef[]): void {
    const names = new Set(refs.map((ref) => qualifiedName(ref)));
    this.entries.invalidate((key) => names.has(key));
  }
}
