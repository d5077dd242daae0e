// Writes of one process gathered into fewer store calls (a group commit):
// items that arrive while a write is in flight wait for it and then go
// together in the next one. A lone item is written at once, so nothing
// waits on a quiet process; under load one call carries many, where a
// store call costs far more than a row in it (D1 under wrangler dev: about
// ten rows' CPU).
//
// Each write is started by one of its own callers with that caller's
// `commit` (on Workers, I/O belongs to the request or object that starts
// it, and one whose answer is sent may be cut off), and every caller
// returns with the write that carried its items. A failed write that
// carried several callers' items is tried again by each of them alone, so
// that one caller's bad item (or store) never fails another's.

interface Waiter<T> {
  items: readonly T[];
  written?: Promise<void>;
  /** Whether its write carried other callers' items too. */
  shared?: boolean;
}

export class GroupCommit<T> {
  private readonly waiting: Waiter<T>[] = [];
  private writing: Promise<void> | undefined;

  /** `maxItems`: items in one write at most (a caller's items are never split; a larger set goes alone). */
  constructor(private readonly maxItems: number) {}

  /** Resolves once `items` are written, with whatever other callers' items went in the same write; rejects when they could not be. */
  async add(items: readonly T[], commit: (batch: T[]) => Promise<void>): Promise<void> {
    const mine: Waiter<T> = { items };
    this.waiting.push(mine);
    while (!mine.written) {
      if (this.writing) {
        await this.writing;
        continue;
      }
      const batch = this.takeBatch();
      const written = start(commit, batch.flatMap((waiter) => waiter.items));
      for (const waiter of batch) {
        waiter.written = written;
        waiter.shared = batch.length > 1;
      }
      // Settles when the write does, never rejects: its failure is its callers' to meet.
      const writing: Promise<void> = written.then(
        () => this.writeEnded(writing),
        () => this.writeEnded(writing),
      );
      this.writing = writing;
    }
    if (!mine.shared) return mine.written;
    await mine.written.catch(() => commit([...items]));
  }

  private writeEnded(writing: Promise<void>): void {
    if (this.writing === writing) this.writing = undefined;
  }

  /** The oldest waiters whose items fit in one write (at least one). */
  private takeBatch(): Waiter<T>[] {
    let count = 0;
    let taken = 0;
    while (taken < this.waiting.length) {
      const size = this.waiting[taken]!.items.length;
      if (taken > 0 && count + size > this.maxItems) break;
      count += size;
      taken++;
    }
    return this.waiting.splice(0, taken);
  }
}

/** `commit(items)` as a promise, a synchronous throw included. */
function start<T>(commit: (batch: T[]) => Promise<void>, items: T[]): Promise<void> {
  try {
    return commit(items);
  } catch (err) {
    return Promise.reject(err);
  }
}
