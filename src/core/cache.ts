// A small in-memory cache with expiry and a size bound, for resolved actions
// and code held by an invoker between activations; and the same filled by
// reads of the store (ReadThroughCache), for resolutions and triggers.

export class ExpiringCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expires <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { value, expires: this.now() + this.ttlMs });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  deleteWhere(predicate: (key: string, value: V) => boolean): void {
    for (const [key, entry] of [...this.entries]) if (predicate(key, entry.value)) this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}

/**
 * An ExpiringCache filled by reads: a value read while an invalidation
 * happened is answered but not kept, so a read that started before a write
 * never outlives that write's invalidation.
 */
export class ReadThroughCache<V> {
  private readonly entries: ExpiringCache<V>;
  /** Bumped by every invalidation. */
  private generation = 0;

  constructor(ttlMs: number, maxEntries: number, now?: () => number) {
    this.entries = new ExpiringCache(ttlMs, maxEntries, now);
  }

  /** The value kept under `key`, else what `read` answers (kept unless an invalidation came meanwhile). */
  async get(key: string, read: () => Promise<V>): Promise<V> {
    const cached = this.entries.get(key);
    if (cached !== undefined) return cached;
    const generation = this.generation;
    const value = await read();
    if (generation === this.generation) this.entries.set(key, value);
    return value;
  }

  /** Forgets the values `predicate` picks, and whatever reads are in flight. */
  invalidate(predicate: (key: string, value: V) => boolean): void {
    this.generation++;
    this.entries.deleteWhere(predicate);
  }
}
