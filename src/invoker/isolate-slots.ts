// Which isolate an activation runs in. An action's `limits.concurrency` caps
// the activations one warm isolate runs at once (1 by default, as
// OpenWhisk's containers); further parallel activations of the same isolate
// key get further isolates, each a slot `${key}/${n}` the IsolateHost treats
// as a key of its own. An invoker keeps a bounded number of isolates busy:
// past the bound, activations wait briefly in a bounded FIFO for a slot to
// free, and only when that queue is full too (or the wait is too long) are
// they refused with a 503.
//
// Only slots with activations in flight are remembered here: an idle slot
// is forgotten (its isolate stays warm in the host's own cache, which
// evicts), and the lowest free slot number is handed out first, so a key's
// slot 0 is the one that stays warm.
//
// An activation taken from a queue has no client waiting for it, so it
// waits for a busy isolate of its key to free instead of starting another
// (a burst of queued activations of a concurrency-1 action otherwise starts
// an isolate per activation in hand, each a cold start costing many warm
// runs' CPU). Those waiting form a line per key, served first in, first out
// as the key's isolates free. One more isolate of the key is started for the
// line's oldest when the line is longer than `lineDepth` per busy isolate
// (so a burst still runs on several isolates, a fraction of those it would
// take), when the line has not moved for `warmWaitMs` (no isolate of the key
// freed: its runs are long), or when that oldest has waited `lineWaitMs` in
// all; the last two at most once per `warmWaitMs`. None of the three starts
// one while the isolate last started for the line has not ended its first
// run (nor for longer than `lineWaitMs`, so slow actions still spread): starting
// an isolate holds up the warm ones beside it (on the Node host, the runs of
// a workerd child's isolates share its thread), so a line would otherwise
// read its own start's stall as a reason to start more (measured: 24 more
// isolates in a burst of 500 on a loaded 2-core machine, against 0).
import { Messages, WhiskError } from "../core/errors.js";

export interface IsolateSlotOptions {
  /** Isolates running activations at once, across all keys (default 64). */
  maxBusy?: number;
  /** Activations that may wait for a slot once all are busy (default 128). */
  maxWaiting?: number;
  /** How long one of them waits at most (default 5 s). */
  maxWaitMs?: number;
  /**
   * How long a line of queued activations may go without one of its key's
   * isolates freeing before one more is started, and the least time between
   * two such starts of a key (default 100 ms: about what starting an
   * isolate takes on a busy invoker; 25 ms started most of a burst's
   * isolates anyway on a loaded 2-core machine, where a warm run alone
   * often takes that long).
   */
  warmWaitMs?: number;
  /** How long the oldest queued activation of a line waits in all before one more isolate is started (default 500 ms). */
  lineWaitMs?: number;
  /** Queued activations a line holds per busy isolate of its key before one more is started (default 4). */
  lineDepth?: number;
}

export const DEFAULT_SLOT_OPTIONS: Required<IsolateSlotOptions> = {
  maxBusy: 64,
  maxWaiting: 128,
  maxWaitMs: 5_000,
  warmWaitMs: 100,
  lineWaitMs: 500,
  lineDepth: 4,
};

export interface AcquireOptions {
  /** Taken from a queue: no client waits for it, so it may wait for a busy isolate of its key rather than start one. */
  queued?: boolean;
}

export interface IsolateSlot {
  /** The key the IsolateHost runs this activation under: `${key}/${n}`. */
  readonly id: string;
  /** Ends this activation's use of the slot (once; later calls do nothing). */
  release(): void;
}

/** A queued activation waiting for an isolate of its key. */
interface LineWaiter {
  concurrency: number;
  since: number;
  resolve: (slot: IsolateSlot) => void;
  reject: (err: Error) => void;
}

/** The queued activations of one key waiting for its busy isolates. */
interface Line {
  waiters: LineWaiter[];
  /** When the line last moved: it formed, an isolate of its key freed for it, or one was started for it. */
  moved: number;
  /** When the last isolate was started for it (0: none yet). */
  lastStart: number;
  /** An isolate started for it has not ended its first run yet. */
  starting: boolean;
  timer?: ReturnType<typeof setTimeout>;
}

interface Waiter {
  key: string;
  concurrency: number;
  resolve: (slot: IsolateSlot) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** The id of a key's slot `n`: the key its IsolateHost runs the slot's activations under. */
const slotId = (key: string, n: number) => `${key}/${n}`;

/** The slot an activation of an idle key gets, and the one that stays warm. */
export const firstSlotOf = (key: string) => slotId(key, 0);

/** The 503 of an invoker with every slot busy and its queue full. */
export const overloaded = () => new WhiskError(503, Messages.systemOverloaded);

export class IsolateSlots {
  /** key → slot number → activations in flight there (only slots with some). */
  private readonly inFlight = new Map<string, Map<number, number>>();
  private busySlots = 0;
  private readonly waiting: Waiter[] = [];
  /** key → queued activations waiting for its busy isolates (only keys with some). */
  private readonly lines = new Map<string, Line>();
  private inLines = 0;
  private readonly options: Required<IsolateSlotOptions>;

  constructor(
    options: IsolateSlotOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.options = { ...DEFAULT_SLOT_OPTIONS, ...options };
  }

  /**
   * A slot of `key` running fewer than `concurrency` activations; waits
   * (bounded) when the invoker is at its bound. A queued activation waits
   * in its key's line instead while every isolate the key has is busy.
   */
  acquire(key: string, concurrency: number, options: AcquireOptions = {}): Promise<IsolateSlot> {
    concurrency = Math.max(1, concurrency);
    if (options.queued && this.mayWaitForBusy(key, concurrency)) return this.waitInLine(key, concurrency);
    const slot = this.take(key, concurrency);
    if (slot) return Promise.resolve(slot);
    if (this.waiting.length >= this.options.maxWaiting) return Promise.reject(overloaded());
    return new Promise<IsolateSlot>((resolve, reject) => {
      const waiter: Waiter = {
        key,
        concurrency,
        resolve,
        reject,
        timer: setTimeout(() => {
          const at = this.waiting.indexOf(waiter);
          if (at < 0) return;
          this.waiting.splice(at, 1);
          reject(overloaded());
        }, this.options.maxWaitMs),
      };
      this.waiting.push(waiter);
    });
  }

  /** Isolates running activations now, activations waiting for one (at the bound), and queued ones waiting for their key's busy isolates. */
  stats(): { busy: number; waiting: number; keys: number; inLines: number } {
    return { busy: this.busySlots, waiting: this.waiting.length, keys: this.inFlight.size, inLines: this.inLines };
  }

  /**
   * Whether a queued activation of `key` should wait rather than be given
   * a slot now: others already wait in its line, or the key has busy
   * isolates, all full, numbered 0…n-1 (a free number below a busy one is
   * likely a warm isolate: take it), and the waits stay within the bound.
   */
  private mayWaitForBusy(key: string, concurrency: number): boolean {
    if (this.inLines + this.waiting.length >= this.options.maxWaiting) return false;
    if (this.lines.get(key)?.waiters.length) return true;
    const slots = this.inFlight.get(key);
    if (!slots) return false;
    for (const [n, count] of slots) if (count < concurrency || n >= slots.size) return false;
    return true;
  }

  private waitInLine(key: string, concurrency: number): Promise<IsolateSlot> {
    let line = this.lines.get(key);
    if (!line) {
      line = { waiters: [], moved: this.now(), lastStart: 0, starting: false };
      this.lines.set(key, line);
    }
    const current = line;
    const waiting = new Promise<IsolateSlot>((resolve, reject) => {
      current.waiters.push({ concurrency, since: this.now(), resolve, reject });
    });
    this.inLines++;
    const busy = this.inFlight.get(key)?.size ?? 0;
    if (current.waiters.length > this.options.lineDepth * busy && !current.starting) this.startForLine(key, current);
    else if (current.waiters.length === 1) this.watchLine(key, current);
    return waiting;
  }

  /** Arms the line's timer: warmWaitMs after it last moved, or sooner when its oldest will have waited lineWaitMs (not sooner than warmWaitMs after a start). */
  private watchLine(key: string, line: Line): void {
    if (line.timer) clearTimeout(line.timer);
    line.timer = undefined;
    const head = line.waiters[0];
    if (!head) {
      if (!line.starting && this.lines.get(key) === line) this.lines.delete(key);
      return;
    }
    // Watched again once the isolate it is starting ends its first run.
    if (line.starting) return;
    const { warmWaitMs, lineWaitMs } = this.options;
    const due = Math.min(line.moved + warmWaitMs, Math.max(head.since + lineWaitMs, line.lastStart + warmWaitMs));
    line.timer = setTimeout(() => this.startForLine(key, line), Math.max(0, due - this.now()));
  }

  /** The line is too long, or its oldest waited long enough: that oldest gets a slot as any activation does (another isolate, or the bound's wait). */
  private startForLine(key: string, line: Line): void {
    // Started for its length, the line's timer must not start another when it comes.
    if (line.timer) clearTimeout(line.timer);
    line.timer = undefined;
    const head = line.waiters.shift();
    if (!head) return this.watchLine(key, line);
    this.inLines--;
    line.lastStart = line.moved = this.now();
    line.starting = true;
    const started = () => {
      clearTimeout(longRun);
      if (!line.starting) return;
      line.starting = false;
      if (this.lines.get(key) === line) this.watchLine(key, line);
    };
    // A long first run (a slow action) holds the line's starts back lineWaitMs at most: its isolate has long started by then.
    const longRun = setTimeout(started, this.options.lineWaitMs);
    // Its first run ends when its slot is released (or it never got one).
    const firstRun = (slot: IsolateSlot): IsolateSlot => ({
      id: slot.id,
      release: () => {
        slot.release();
        started();
      },
    });
    // A slot freed meanwhile would have gone to the line, so this is a new one (or a wait at the bound).
    const slot = this.take(key, head.concurrency);
    if (slot) head.resolve(firstRun(slot));
    else
      this.acquire(key, head.concurrency).then(
        (later) => head.resolve(firstRun(later)),
        (err: Error) => {
          started();
          head.reject(err);
        },
      );
  }

  private take(key: string, concurrency: number): IsolateSlot | undefined {
    let slots = this.inFlight.get(key);
    if (slots) {
      // Share the lowest-numbered busy slot with room.
      let best: number | undefined;
      for (const [n, count] of slots) if (count < concurrency && (best === undefined || n < best)) best = n;
      if (best !== undefined) {
        slots.set(best, slots.get(best)! + 1);
        return this.slot(key, best);
      }
    }
    if (this.busySlots >= this.options.maxBusy) return undefined;
    if (!slots) {
      slots = new Map();
      this.inFlight.set(key, slots);
    }
    let n = 0;
    while (slots.has(n)) n++;
    slots.set(n, 1);
    this.busySlots++;
    return this.slot(key, n);
  }

  private slot(key: string, n: number): IsolateSlot {
    let released = false;
    return {
      id: slotId(key, n),
      release: () => {
        if (released) return;
        released = true;
        this.free(key, n);
      },
    };
  }

  private free(key: string, n: number): void {
    const slots = this.inFlight.get(key);
    const count = slots?.get(n);
    if (!slots || count === undefined) return;
    const line = this.lines.get(key);
    const next = line?.waiters.shift();
    if (line && next) {
      // Handed straight to the oldest queued activation of the key: the isolate stays busy and warm.
      this.inLines--;
      line.moved = this.now();
      next.resolve(this.slot(key, n));
      this.watchLine(key, line);
      return;
    }
    if (count > 1) slots.set(n, count - 1);
    else {
      slots.delete(n);
      this.busySlots--;
      if (slots.size === 0) this.inFlight.delete(key);
    }
    this.serveWaiting();
  }

  /** Hands freed room to waiting activations, oldest first. */
  private serveWaiting(): void {
    for (let i = 0; i < this.waiting.length; ) {
      const waiter = this.waiting[i];
      const slot = this.take(waiter.key, waiter.concurrency);
      if (!slot) {
        i++;
        continue;
      }
      this.waiting.splice(i, 1);
      clearTimeout(waiter.timer);
      waiter.resolve(slot);
    }
  }
}
