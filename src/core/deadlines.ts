// Waiting for work up to a deadline without a timer per wait: an invoker
// races every run against its deadline, and a timer per run costs more than
// the bookkeeping of one shared timer for the earliest deadline. Only for
// long-lived owners (a Durable Object, a process): a stateless Worker must
// not share timers or promises between requests.

interface Waiter {
  deadline: number;
  expire: () => void;
}

export class DeadlineClock {
  private readonly waiters = new Set<Waiter>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = Infinity;

  constructor(private readonly now: () => number = Date.now) {}

  /** Resolves with `work`'s value, or with undefined once `deadline` (epoch ms) passes first. */
  async race<T>(work: Promise<T>, deadline: number): Promise<T | undefined> {
    let waiter!: Waiter;
    const expired = new Promise<undefined>((resolve) => {
      waiter = { deadline, expire: () => resolve(undefined) };
    });
    this.waiters.add(waiter);
    this.arm(deadline);
    try {
      return await Promise.race([work, expired]);
    } finally {
      this.waiters.delete(waiter);
    }
  }

  private arm(deadline: number): void {
    if (deadline >= this.timerAt) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = deadline;
    this.timer = setTimeout(() => this.tick(), Math.max(0, deadline - this.now()));
  }

  private tick(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.now();
    let next = Infinity;
    for (const waiter of this.waiters) {
      if (waiter.deadline <= now) {
        this.waiters.delete(waiter);
        waiter.expire();
      } else next = Math.min(next, waiter.deadline);
    }
    if (next !== Infinity) this.arm(next);
  }
}
