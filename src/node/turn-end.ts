// Work run together once the current turn of the event loop has run its I/O
// callbacks (one setImmediate for all of it): what that work sends on a NATS
// connection then goes out in one socket write instead of one each. Written
// one by one, a busy invoker's NATS messages took 15 % of its CPU in a
// profile of 3000 queued activations (docs/benchmarks.md, sixth session).
let queued: (() => void)[] | undefined;

/** Runs `work` at the end of this turn, with the rest queued in it; `work` handles its own errors. */
export function atTurnEnd(work: () => void): void {
  if (!queued) {
    const running: (() => void)[] = [];
    queued = running;
    setImmediate(() => {
      queued = undefined;
      for (const each of running) each();
    });
  }
  queued.push(work);
}
