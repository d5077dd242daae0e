// What every isolate host that loads action isolates through a Worker Loader
// shares (Cloudflare's binding in src/cloudflare/loader-isolates.ts, a
// workerd child's in src/node/workerd/supervisor.ts): the compatibility date
// isolates run with, the loader id an isolate is loaded under, and how a
// failed start reads.
import { IsolateStartError } from "../ports/isolate-host.js";

/**
 * The compatibility date of action isolates on every host, so an action
 * behaves the same on both. It is the isolates' own, apart from the
 * controller worker's `compatibility_date` in wrangler.toml.
 */
export const ISOLATE_COMPATIBILITY_DATE = "2026-08-01";

/** Keys retired at least once, remembered for their next generation. */
const MAX_GENERATIONS = 4_096;

/**
 * The loader id of each key's current isolate. A Worker Loader keeps an
 * isolate (or its failed start) under its id, so a key whose isolate must
 * not be reused (it timed out, failed to start, was lost) is given the next
 * generation, and with it an id the loader has not seen.
 */
export class IsolateGenerations {
  private readonly generations = new Map<string, number>();

  constructor(private readonly max = MAX_GENERATIONS) {}

  /**
   * `key~generation@apiHost`: an isolate's gateway is fixed to one API host
   * when it loads, so a key called on another API host gets an isolate of its own.
   */
  id(key: string, apiHost: string): string {
    return `${key}~${this.generations.get(key) ?? 0}@${apiHost}`;
  }

  /** The key's next run loads a fresh isolate. */
  discard(key: string): void {
    const generation = (this.generations.get(key) ?? 0) + 1;
    this.generations.delete(key);
    // Bounded: a key forgotten here restarts at generation 0, which only
    // matters if that old isolate is still loaded (long evicted by then).
    if (this.generations.size >= this.max) this.generations.delete(this.generations.keys().next().value!);
    this.generations.set(key, generation);
  }
}

const START_FAILURE = /^Failed to start Worker:\s*/;

/**
 * A Worker Loader reports an isolate whose modules threw while loading as
 * "Failed to start Worker:\nUncaught SyntaxError: x\n  at action.js:1"; that
 * is an IsolateStartError "SyntaxError: x\n  at action.js:1". Any other
 * message is not a failed start: undefined.
 */
export function startErrorOf(message: string): IsolateStartError | undefined {
  if (!START_FAILURE.test(message)) return undefined;
  return new IsolateStartError(message.replace(START_FAILURE, "").replace(/^Uncaught\s+/, ""));
}
