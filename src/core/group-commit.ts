// Writes of one process gathered into fewer store calls (a group commit):
// items that arrive while a write is in flight wait for it and then go
// together in the next one. A lone item is written at once, so nothing
// waits on a quiet process; under load one call carries many, where a
// store call costs far more than a row in it (D1 under wrangler dev: about
// ten rows' CPU).
//
// On Workers, I/O belongs to the request (or object) that starts it, and a
// request that only awaits a promise another request will settle is taken
// for hung and cancelled. Where workerd does not hand such a continuation
// back to the request that awaits (the tests' pool sets
// no_handle_cross_request_promise_resolution), it goes on in the settling
// one's context, and between Durable Objects the awaiting object's storage
// then refuses it ("Cannot perform I/O on behalf of a different Durable
// Object", seen in the worker tests, November 2026). So each write is
// started by one of its own callers with that caller's `commit` and awaited
// only by it; the others whose items it carries learn its outcome from plain
// state, looking every POLL_MS on timers of their own. A failed write that carried several
// callers' items is tried again by each of them alone, so that one caller's
// bad item never fails another's; items whose write has not ended after
// stallMs (its caller gone: a cancelled request, an object reset mid-write)
// are written again by their own callers, and the next write starts.
//
// Where a caller may await another's promise (Node), `awaitWrites` has the
// callers wake when a write ends instead of looking on timers: no 2 ms
// timers per waiter, and no up-to-2 ms delay after a write ends.

/** How often a caller whose items another caller's write carries looks whether it has ended. */
export const POLL_MS = 2;
/**
 * By default, a write not ended after this long is taken for lost: its items
 * are written again (a store that keeps each item once, or an upsert, takes
 * the repeat), and the writes of everyone else no longer wait for it.
 */
export const STALL_MS = 2_000;

interface Waiter<T> {
  items: readonly T[];
  /** When a write took its items. */
  takenAt?: number;
  /** Set when that write ended. */
  outcome?: { failed: false } | { failed: true; error: unknown };
  /** Whether that write carried other callers' items too. */
  shared?: boolean;
}

export interface GroupCommitOptions {
  /**
   * How long a write waits, once due, for more callers to join it. Without
   * it only callers that come while a write is in flight are gathered;
   * with it, also those that come within this window of each other.
   */
  gatherMs?: number;
  /** How long a write may take before it is taken for lost (default STALL_MS). */
  stallMs?: number;
  /** Callers wait for the end of a write itself, not on timers (only where a caller may await another's promise). */
  awaitWrites?: boolean;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class GroupCommit<T> {
  private readonly waiting: Waiter<T>[] = [];
  /** The write in flight: when it started, and whether it has taken its items. */
  private writing: { startedAt: number; taken?: boolean } | undefined;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly gatherMs: number;
  private readonly stallMs: number;
  private readonly awaitWrites: boolean;
  /** With awaitWrites: callers to wake when the write in flight ends. */
  private wakeOnEnd: (() => void)[] = [];

  /** `maxItems`: items in one write at most (a caller's items are never split; a larger set goes alone). */
  constructor(
    private readonly maxItems: number,
    options: GroupCommitOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? defaultSleep;
    this.gatherMs = options.gatherMs ?? 0;
    this.stallMs = options.stallMs ?? STALL_MS;
    this.awaitWrites = options.awaitWrites ?? false;
  }

  /** Resolves once `items` are written, with whatever other callers' items went in the same write; rejects when they could not be. */
  async add(items: readonly T[], commit: (batch: T[]) => Promise<void>): Promise<void> {
    const mine: Waiter<T> = { items };
    this.waiting.push(mine);
    while (!mine.outcome) {
      const now = this.now();
      if (mine.takenAt !== undefined) {
        if (now - mine.takenAt > this.stallMs) return commit([...items]);
      } else if (!this.writing || now - this.writing.startedAt > this.stallMs) {
        await this.writeNext(commit);
        continue;
      }
      await (this.awaitWrites ? this.writeEnded() : this.sleep(this.pollDelay(now)));
    }
    if (!mine.outcome.failed) return;
    if (!mine.shared) throw mine.outcome.error;
    await commit([...items]);
  }

  /**
   * How long a caller whose items wait for a write looks away: until the
   * write in flight stops gathering (it takes no items before then), else
   * POLL_MS. Under 100 actions' outboxes, 2 ms looks through a 20 ms gather
   * were most of the timers their objects set.
   */
  private pollDelay(now: number): number {
    const gathering = this.writing && this.gatherMs > 0 && !this.writing.taken ? this.writing.startedAt + this.gatherMs - now : 0;
    return Math.max(POLL_MS, gathering);
  }

  /** Writes the oldest waiters' items (this caller's among them while it is among the oldest) with this caller's `commit`. */
  private async writeNext(commit: (batch: T[]) => Promise<void>): Promise<void> {
    const writing: { startedAt: number; taken?: boolean } = { startedAt: this.now() };
    this.writing = writing;
    if (this.gatherMs > 0) await this.sleep(this.gatherMs);
    const batch = this.takeBatch();
    writing.taken = true;
    for (const waiter of batch) waiter.takenAt = this.now();
    let outcome: NonNullable<Waiter<T>["outcome"]>;
    try {
      await commit(batch.flatMap((waiter) => waiter.items));
      outcome = { failed: false };
    } catch (error) {
      outcome = { failed: true, error };
    }
    for (const waiter of batch) {
      waiter.outcome = outcome;
      waiter.shared = batch.length > 1;
    }
    if (this.writing === writing) this.writing = undefined;
    const waking = this.wakeOnEnd;
    this.wakeOnEnd = [];
    for (const wake of waking) wake();
  }

  /** Resolves when a write ends, or after stallMs (a write that never ends is then taken for lost). */
  private writeEnded(): Promise<void> {
    return new Promise<void>((resolve) => {
      const stalled = setTimeout(resolve, this.stallMs + 1);
      this.wakeOnEnd.push(() => {
        clearTimeout(stalled);
        resolve();
      });
    });
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
