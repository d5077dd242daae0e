// The decisions of the workerd pool, as pure functions (no processes, no
// clock): which child an activation goes to, and which activation a child
// over its memory budget is blamed on. supervisor.ts applies them.
//
// Placement: an isolate key (src/invoker/executor.ts) reads
// `<namespace>><package/action>@<version>#<digest>|<main>[|<init hash>]`,
// plus `/<n>` for the n-th parallel slot of a key (src/invoker/isolate-slots.ts).
// Children are ranked by rendezvous hashing of `<namespace>><action>` and the
// slot, so a slot stays warm on one child across versions, a tenant's other
// actions (and a hot action's parallel slots) spread over the pool, and a
// child's loss moves only the keys ranked first on it.

import { hash53 } from "../../core/rendezvous.js";

/** Namespace, action and parallel slot of an isolate key: what placement hashes. */
export function placementKey(isolateKey: string): string {
  const slot = /\/(\d+)$/.exec(isolateKey);
  const key = slot ? isolateKey.slice(0, slot.index) : isolateKey;
  // Names hold no '#', and a version no '@'; anything unexpected is hashed whole.
  const digestAt = key.indexOf("#");
  const versionAt = digestAt < 0 ? -1 : key.lastIndexOf("@", digestAt);
  const action = versionAt > key.indexOf(">") ? key.slice(0, versionAt) : key;
  return slot ? `${action}/${slot[1]}` : action;
}

/** Pool positions 0..size-1, best first for `key` (rendezvous / highest-random-weight hashing). */
export function rendezvousOrder(key: string, size: number): number[] {
  const scored = Array.from({ length: size }, (_, position) => ({ position, score: hash53(`${position}|${key}`) }));
  return scored.sort((a, b) => b.score - a.score || a.position - b.position).map((s) => s.position);
}

/**
 * The position an activation of `isolateKey` runs at: the first in its
 * rendezvous order whose child is usable (not stalled by a spinning isolate
 * or an activation past its deadline); when none is, the first anyway.
 */
export function place(isolateKey: string, size: number, usable: (position: number) => boolean): number {
  const order = rendezvousOrder(placementKey(isolateKey), size);
  return order.find(usable) ?? order[0]!;
}

/** An activation in flight on a child, as the memory check sees it. */
export interface FlightMemory {
  id: number;
  /** The action's memory limit (limits.memory). */
  memoryMb: number;
  /** The child's resident memory when this activation began. */
  rssAtStartMb: number;
  startedAt: number;
}

export interface MemorySample {
  rssMb: number;
  /** Resident memory of the child when it last had nothing in flight (its runtime and warm isolates). */
  baselineMb: number;
  /** Hard cap of one child (WORKERD_MEMORY_MB). */
  capMb: number;
  flights: readonly FlightMemory[];
}

export type MemoryVerdict =
  | { over: false }
  /** Kill the child; `culprit` is answered with the memory error, the others are victims (undefined: none in flight). */
  | { over: true; budgetMb: number; culprit?: number };

/** Activations whose child grew by less than this between their starts count as there before the growth. */
export const ONSET_TOLERANCE_MB = 32;

/**
 * A child is over budget when its resident memory passes its idle baseline
 * plus the memory limits of everything in flight there (so activations that
 * each stay within their limit never trip it), or the hard cap.
 *
 * Resident memory is the whole child's, so the growth is blamed by when it
 * happened: only activations that began before it (their child's memory
 * when they began within ONSET_TOLERANCE_MB of the lowest) are suspects, and
 * of those the one that began last, since the others had been running while
 * the child had not grown yet. An activation alone on its child is always
 * the one blamed. Wrong when a suspect that began earlier starts allocating
 * only later, or when an activation arrives before the growth shows.
 */
export function memoryVerdict(sample: MemorySample): MemoryVerdict {
  const budgetMb = Math.min(sample.capMb, sample.baselineMb + sample.flights.reduce((sum, f) => sum + f.memoryMb, 0));
  if (sample.rssMb <= budgetMb) return { over: false };
  const lowest = Math.min(...sample.flights.map((f) => f.rssAtStartMb));
  let culprit: FlightMemory | undefined;
  for (const flight of sample.flights) {
    if (flight.rssAtStartMb > lowest + ONSET_TOLERANCE_MB) continue;
    if (!culprit || flight.startedAt > culprit.startedAt || (flight.startedAt === culprit.startedAt && flight.id > culprit.id)) {
      culprit = flight;
    }
  }
  return culprit ? { over: true, budgetMb, culprit: culprit.id } : { over: true, budgetMb };
}

/**
 * A child's idle baseline after a cold activation ends there. workerd keeps
 * every isolate it loads, so what a cold start added stays resident; under
 * steady load the child is seldom idle when memory is sampled, and without
 * this the budget would lag behind the isolates already loaded and blame
 * the next activation for them. The growth counted is at most the
 * activation's own memory limit, and never makes the baseline smaller.
 * The caller counts only an activation that ran alone on its child: beside
 * others, the growth is theirs too.
 */
export function baselineAfterColdRun(baselineMb: number, rssAtStartMb: number, rssNowMb: number, memoryMb: number): number {
  return baselineMb + Math.min(memoryMb, Math.max(0, rssNowMb - rssAtStartMb));
}

/**
 * A Python isolate counts as this many against maxIsolatesPerChild: it holds
 * a CPython heap (40-80 MB resident each, measured: bench/python.mjs), a Node isolate a few MB.
 */
export const PYTHON_ISOLATE_WEIGHT = 16;

/**
 * What a child's first Python isolate adds once, beyond the isolate itself:
 * the Pyodide files and packed snapshot the host worker reads and holds, and
 * the spare interpreter it keeps booted from then on (host-worker.js; the
 * compiled CPython is in every child's idle memory already). Measured: a
 * fresh child grew by ~185 MB with its first Python isolate and its spare,
 * ~60 MB of which is the isolate. Counted into the child's baseline, not
 * blamed on whichever activation came first: without it, a Python action at
 * the smallest memory limit (128 MB) was killed there.
 */
export const PYTHON_RUNTIME_MB = 125;

/** The isolates a child holds, as maxIsolatesPerChild counts them. */
export function isolateLoad(isolates: number, pythonIsolates: number): number {
  return isolates + pythonIsolates * (PYTHON_ISOLATE_WEIGHT - 1);
}

/**
 * Past this share of its hard cap, a child's idle memory is retired with the
 * child: late enough that a working set of warm isolates does not make
 * children rotate in turn (measured: at half of 1 GiB, 100 actions on two
 * children rotated 13 times in 20 s), early enough to leave an activation
 * at the default 256 MB its room under a 1 GiB cap.
 */
export const ROTATE_AT_SHARE_OF_CAP = 0.75;

/**
 * Whether a child should leave service (its work drained, a fresh child in
 * its place): workerd frees no isolate it has loaded, so a long-lived child
 * grows with every new action version it serves, and its idle heaps grow
 * under load. Rotating it before the hard cap bounds its memory without
 * failing anything that runs there.
 */
export function shouldRotate(child: { baselineMb: number; capMb: number; loadedIsolates: number; maxIsolates: number }): boolean {
  return child.baselineMb > child.capMb * ROTATE_AT_SHARE_OF_CAP || child.loadedIsolates >= child.maxIsolates;
}
