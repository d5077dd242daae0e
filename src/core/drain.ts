// A server's life as an orchestrator sees it: not ready while it starts,
// ready while it serves, not ready again the moment it is told to stop, and
// gone once the work it had taken has ended. Readiness (/readyz) and the
// SIGTERM drain of both Node roles read this one state machine.
//
//   starting ──serving()──▶ serving ──drain()──▶ draining ──(idle)──▶ drained
//       └───────────────────drain()──────────────────▲
//
// Work is counted from when it is taken until it ends. `enter` counts work
// whatever the phase (a controller still answers the requests that reach it
// while endpoints forget it); `admit` refuses new work once draining (an
// invoker answers 503 so the caller spills to another one).
import { LIMITS } from "./limits.js";

export type DrainPhase = "starting" | "serving" | "draining" | "drained";

/** Ends one piece of counted work; calling it again does nothing. */
export type Leave = () => void;

/** How long a drain may take by default, per role: what its longest work can last, plus a margin. */
export const DRAIN_TIMEOUT_MS = {
  /** A blocking invoke waits at most a minute for its record. */
  controller: 60_000,
  /** An activation runs for at most the longest action timeout; its record is written after. */
  invoker: LIMITS.timeout.max + 30_000,
} as const;

export class Drain {
  private current: DrainPhase = "starting";
  private count = 0;
  private idle: (() => void) | undefined;
  private drained: Promise<void> | undefined;

  get phase(): DrainPhase {
    return this.current;
  }

  /** Work taken and not yet ended. */
  get inFlight(): number {
    return this.count;
  }

  /** Whether the server should be sent new work: only while it serves. */
  get ready(): boolean {
    return this.current === "serving";
  }

  /** The server has started; nothing happens once a drain has begun. */
  serving(): void {
    if (this.current === "starting") this.current = "serving";
  }

  /** Counts work taken now, in any phase; a drain waits for it. */
  enter(): Leave {
    this.count++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      if (--this.count === 0) this.idle?.();
    };
  }

  /** Counts new work unless the server is draining: undefined then, and the caller refuses it. */
  admit(): Leave | undefined {
    if (this.current === "draining" || this.current === "drained") return undefined;
    return this.enter();
  }

  /**
   * Turns readiness off at once and resolves when no counted work is left
   * (work entered meanwhile included). Calling it again returns the same drain.
   */
  drain(): Promise<void> {
    if (this.drained) return this.drained;
    this.current = "draining";
    this.drained = new Promise<void>((resolve) => {
      const done = () => {
        this.idle = undefined;
        this.current = "drained";
        resolve();
      };
      if (this.count === 0) done();
      else this.idle = done;
    });
    return this.drained;
  }
}

/** Waits for `work` at most `timeoutMs`: whether it ended in time. Its failure is its own to report. */
export async function within(work: Promise<unknown>, timeoutMs: number): Promise<"done" | "timed out"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<"timed out">((resolve) => (timer = setTimeout(() => resolve("timed out"), timeoutMs)));
  try {
    return await Promise.race([work.then(() => "done" as const), expired]);
  } finally {
    clearTimeout(timer);
  }
}
