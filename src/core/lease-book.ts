// One namespace's leases kept in memory by their authority, settled
// incrementally: the decisions of settleLeases (src/core/concurrency.ts)
// without its pass over every lease. A settle costs the size of its change;
// the whole book is looked through only once the earliest expiry may have
// passed. Under a queue backlog a namespace holds a lease per queued
// activation, and every accept and every end settles, so the full pass made
// draining N queued activations cost N² (a Cloudflare CPU profile,
// November 2026: the throttle object's settle was the largest cost of a
// non-blocking activation with a few hundred queued). The throttle Durable
// Object keeps one (written through to its storage); MemoryLeaseAuthority is
// one per namespace.
import { admitInOrder, isPlace, type LeaseAuthority, type LeaseChange, type Settlement, type SettlementDecision } from "./concurrency.js";

/** A settle's outcome: the decision, and the leases it ended (expired, or released while held). */
export interface BookSettlement extends SettlementDecision {
  ended: string[];
  /** When the admitted leases now expire. */
  expiresAt: number;
}

export class LeaseBook {
  /** Lease id → epoch ms it expires at. */
  private readonly leases = new Map<string, number>();
  /** How many of them are places a limiter holds (PLACE_PREFIX). */
  private places = 0;
  /** No lease expires before this (a lower bound: extended leases may expire later). */
  private earliestExpiry = Infinity;
  /** Passes over the whole book so far (tests read it). */
  scans = 0;

  constructor(leases: Iterable<readonly [string, number]> = []) {
    for (const [id, expiresAt] of leases) this.put(id, expiresAt);
  }

  get size(): number {
    return this.leases.size;
  }

  ids(): string[] {
    return [...this.leases.keys()];
  }

  /** Ends `change.release`, then takes or extends `change.acquire` while the namespace has room, as settleLeases decides. */
  settle(change: LeaseChange, now: number): BookSettlement {
    const expired = now >= this.earliestExpiry ? this.dropExpired(now) : [];
    const releasing = new Set(change.release);
    let count = this.leases.size;
    let pooled = this.places;
    for (const id of releasing) {
      if (!this.leases.has(id)) continue;
      count--;
      if (isPlace(id)) pooled--;
    }
    // Asked for and held already (not released in this change): admitted whatever the limit.
    const held = new Set<string>();
    for (const id of change.acquire) {
      if (held.has(id) || releasing.has(id) || !this.leases.has(id)) continue;
      held.add(id);
      count--;
      if (isPlace(id)) pooled--;
    }
    const admitted = admitInOrder(change.acquire, held, count, change.limit);
    const ended = [...expired];
    for (const id of releasing) if (this.remove(id)) ended.push(id);
    const expiresAt = now + change.ttlMs;
    for (const id of admitted) this.put(id, expiresAt);
    return { expired, admitted, count, pooled, ended, expiresAt };
  }

  /** Ends one lease; whether it was held. */
  remove(id: string): boolean {
    if (!this.leases.delete(id)) return false;
    if (isPlace(id)) this.places--;
    return true;
  }

  private put(id: string, expiresAt: number): void {
    if (!this.leases.has(id) && isPlace(id)) this.places++;
    this.leases.set(id, expiresAt);
    if (expiresAt < this.earliestExpiry) this.earliestExpiry = expiresAt;
  }

  /** Drops the leases expired at `now` (in the book's order) and finds the next earliest expiry. */
  private dropExpired(now: number): string[] {
    this.scans++;
    const expired: string[] = [];
    let earliest = Infinity;
    for (const [id, expiresAt] of this.leases) {
      if (expiresAt <= now) expired.push(id);
      else if (expiresAt < earliest) earliest = expiresAt;
    }
    for (const id of expired) this.remove(id);
    this.earliestExpiry = earliest;
    return expired;
  }
}

/** An authority in memory (tests, single-process setups): the same rule, a LeaseBook per namespace. */
export class MemoryLeaseAuthority implements LeaseAuthority {
  private readonly books = new Map<string, LeaseBook>();
  /** Round trips answered (tests count them). */
  calls = 0;

  constructor(private readonly now: () => number = Date.now) {}

  async settle(namespace: string, change: LeaseChange): Promise<Settlement> {
    this.calls++;
    const book = this.books.get(namespace) ?? new LeaseBook();
    const { admitted, count, pooled } = book.settle(change, this.now());
    if (book.size > 0) this.books.set(namespace, book);
    else this.books.delete(namespace);
    return { admitted, count, pooled };
  }

  /** Leases held now (expired ones included until the next settle drops them). */
  size(namespace: string): number {
    return this.books.get(namespace)?.size ?? 0;
  }

  /** The ids of the leases held now. */
  ids(namespace: string): string[] {
    return this.books.get(namespace)?.ids() ?? [];
  }
}
