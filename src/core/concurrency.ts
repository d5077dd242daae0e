// Per-namespace concurrent activations (`concurrentInvocations`), as
// OpenWhisk counts them: every activation the controller admitted and that
// has not ended, queued or running, holds a place; one more is refused with
// `Too many concurrent requests in flight (count: N, allowed: M).` when N,
// the activations already in flight, has reached the limit.
//
// Places are leases keyed by activation id, kept by one authority per
// namespace (a Durable Object, PostgreSQL rows). A lease ends when its
// activation ends, or when it expires: a controller or invoker that crashes
// with activations in hand never leaks the namespace's places for longer
// than the longest an activation can live.
import { Messages, WhiskError } from "./errors.js";
import { LIMITS } from "./limits.js";
import { cachedLimits, type NamespaceLimits } from "./throttle.js";

/**
 * How long a place outlives the start of its activation at most: the longest
 * action timeout, plus a margin for the time it spends queued, its record and
 * a retry of a lost delivery. Activations that end sooner release theirs.
 */
export const LEASE_MARGIN_MS = 60_000;
export const LEASE_TTL_MS = LIMITS.timeout.max + LEASE_MARGIN_MS;

/** One activation's place, as an authority keeps it. */
export interface Lease {
  activationId: string;
  /** Epoch ms after which the place is free again. */
  expiresAt: number;
}

export interface LeaseDecision {
  /** Leases past their expiry: the authority drops them. */
  expired: string[];
  /** True when the activation holds a place (newly, or already: an acquire is idempotent per activation). */
  admitted: boolean;
  /** Activations in flight besides this one (OpenWhisk's `count`). */
  count: number;
}

/**
 * The authority's rule. Expired leases are dropped; an activation that holds
 * a place keeps it (a redelivered message asks again); otherwise it is
 * admitted while fewer than `limit` others are in flight. An admitted
 * activation's lease is (re)written to expire at now + its TTL.
 */
export function decideLease(leases: readonly Lease[], activationId: string, now: number, limit: number): LeaseDecision {
  const expired: string[] = [];
  let count = 0;
  let held = false;
  for (const lease of leases) {
    if (lease.expiresAt <= now) expired.push(lease.activationId);
    else if (lease.activationId === activationId) held = true;
    else count++;
  }
  return { expired, admitted: held || count < limit, count };
}

/** What an authority answers an acquire: the decision's outcome. */
export type LeaseGrant = Pick<LeaseDecision, "admitted" | "count">;

/** The keeper of one namespace's leases (a Durable Object, PostgreSQL rows); it applies decideLease. */
export interface LeaseAuthority {
  acquire(namespace: string, activationId: string, ttlMs: number, limit: number): Promise<LeaseGrant>;
  release(namespace: string, activationId: string): Promise<void>;
}

/** An authority in memory (tests, single-process setups): the same rule over a Map. */
export class MemoryLeaseAuthority implements LeaseAuthority {
  private readonly leases = new Map<string, Map<string, number>>();

  constructor(private readonly now: () => number = Date.now) {}

  async acquire(namespace: string, activationId: string, ttlMs: number, limit: number): Promise<LeaseGrant> {
    const held = this.leases.get(namespace) ?? new Map<string, number>();
    const now = this.now();
    const decision = decideLease(
      [...held].map(([id, expiresAt]) => ({ activationId: id, expiresAt })),
      activationId,
      now,
      limit,
    );
    for (const id of decision.expired) held.delete(id);
    if (decision.admitted) held.set(activationId, now + ttlMs);
    if (held.size > 0) this.leases.set(namespace, held);
    else this.leases.delete(namespace);
    return { admitted: decision.admitted, count: decision.count };
  }

  async release(namespace: string, activationId: string): Promise<void> {
    const held = this.leases.get(namespace);
    if (!held) return;
    held.delete(activationId);
    if (held.size === 0) this.leases.delete(namespace);
  }

  /** Leases held now (expired ones included until the next acquire drops them). */
  size(namespace: string): number {
    return this.leases.get(namespace)?.size ?? 0;
  }
}

export function concurrencyLimit(limits: NamespaceLimits): number {
  return limits.concurrentInvocations ?? LIMITS.concurrentInvocations;
}

export interface ConcurrencyLimiterOptions {
  authority: LeaseAuthority;
  /** A namespace's own limits (read from the store; cached here). */
  limitsOf: (namespace: string) => Promise<NamespaceLimits>;
  now?: () => number;
}

/** The ConcurrencyGate port over an authority: one authority round trip per acquire and per release. */
export class ConcurrencyLimiter {
  private readonly limitsOf: (namespace: string) => Promise<NamespaceLimits>;

  constructor(private readonly options: ConcurrencyLimiterOptions) {
    this.limitsOf = cachedLimits(options.limitsOf, options.now);
  }

  /** Takes a place for `activationId`; throws OpenWhisk's 429 when `namespace` has its limit in flight. */
  async acquire(namespace: string, activationId: string, ttlMs: number = LEASE_TTL_MS): Promise<void> {
    const limit = concurrencyLimit(await this.limitsOf(namespace));
    const grant = await this.options.authority.acquire(namespace, activationId, ttlMs, limit);
    if (!grant.admitted) throw new WhiskError(429, Messages.tooManyConcurrentRequests(grant.count, limit));
  }

  /** Frees the activation's place; releasing one that holds none does nothing. */
  release(namespace: string, activationId: string): Promise<void> {
    return this.options.authority.release(namespace, activationId);
  }
}
