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
import { Messages, WhiskError } from "../core/errors.js";

export interface IsolateSlotOptions {
  /** Isolates running activations at once, across all keys (default 64). */
  maxBusy?: number;
  /** Activations that may wait for a slot once all are busy (default 128). */
  maxWaiting?: number;
  /** How long one of them waits at most (default 5 s). */
  maxWaitMs?: number;
}

export const DEFAULT_SLOT_OPTIONS: Required<IsolateSlotOptions> = { maxBusy: 64, maxWaiting: 128, maxWaitMs: 5_000 };

export interface IsolateSlot {
  /** The key the IsolateHost runs this activation under: `${key}/${n}`. */
  readonly id: string;
  /** Ends this activation's use of the slot (once; later calls do nothing). */
  release(): void;
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
  private readonly options: Required<IsolateSlotOptions>;

  constructor(options: IsolateSlotOptions = {}) {
    this.options = { ...DEFAULT_SLOT_OPTIONS, ...options };
  }

  /** A slot of `key` running fewer than `concurrency` activations; waits (bounded) when the invoker is at its bound. */
  acquire(key: string, concurrency: number): Promise<IsolateSlot> {
    const slot = this.take(key, Math.max(1, concurrency));
    if (slot) return Promise.resolve(slot);
    if (this.waiting.length >= this.options.maxWaiting) return Promise.reject(overloaded());
    return new Promise<IsolateSlot>((resolve, reject) => {
      const waiter: Waiter = {
        key,
        concurrency: Math.max(1, concurrency),
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

  /** Isolates running activations now, and activations waiting for one. */
  stats(): { busy: number; waiting: number; keys: number } {
    return { busy: this.busySlots, waiting: this.waiting.length, keys: this.inFlight.size };
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
