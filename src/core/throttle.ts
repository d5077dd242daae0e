// Per-namespace rate limits: invokes and trigger fires per minute, as
// OpenWhisk counts them (fixed wall-clock minutes, every attempt charged,
// `count` in the 429 message being the attempt's number in that minute).
//
// One authority per namespace counts; controllers spend tokens it grants in
// small batches, so most requests check the limit without a round trip and
// the namespace never gets more than its limit in a minute.
import { ExpiringCache } from "./cache.js";
import { Messages, WhiskError } from "./errors.js";
import { LIMITS } from "./limits.js";

export type ThrottledKind = "invoke" | "fire";

/** A namespace's own limits (wskadmin limits set); absent fields take the system defaults. */
export interface NamespaceLimits {
  invocationsPerMinute?: number;
  concurrentInvocations?: number;
  firesPerMinute?: number;
}

export const LIMIT_FIELDS = ["invocationsPerMinute", "concurrentInvocations", "firesPerMinute"] as const;

/** What an authority answers a request for tokens. */
export interface Grant {
  /** Tokens handed out, at most what was asked for; 0 once the minute's limit is spent. */
  granted: number;
  /** Attempts counted so far this minute, this one included. */
  count: number;
}

/** The counter of one namespace's attempts (a Durable Object, PostgreSQL rows). */
export type GrantAuthority = (namespace: string, kind: ThrottledKind, minute: number, wanted: number, limit: number) => Promise<Grant>;

export const minuteOf = (epochMs: number): number => Math.floor(epochMs / 60_000);

/** Tokens a controller asks for at once: a twentieth of the limit, so a namespace's budget spreads over many controllers. */
export function batchSize(limit: number): number {
  return Math.min(1_000, Math.max(1, Math.floor(limit / 20)));
}

export function perMinuteLimit(kind: ThrottledKind, limits: NamespaceLimits): number {
  return kind === "invoke"
    ? (limits.invocationsPerMinute ?? LIMITS.invocationsPerMinute)
    : (limits.firesPerMinute ?? LIMITS.firesPerMinute);
}

/** The limits OpenWhisk reports at GET /namespaces/{ns}/limits. */
export function effectiveLimits(limits: NamespaceLimits) {
  const concurrent = limits.concurrentInvocations ?? LIMITS.concurrentInvocations;
  return {
    invocationsPerMinute: perMinuteLimit("invoke", limits),
    concurrentInvocations: concurrent,
    firesPerMinute: perMinuteLimit("fire", limits),
    minActionMemory: LIMITS.memory.min,
    maxActionMemory: LIMITS.memory.max,
    minActionLogs: LIMITS.logs.min,
    maxActionLogs: LIMITS.logs.max,
    minActionTimeout: LIMITS.timeout.min,
    maxActionTimeout: LIMITS.timeout.max,
    minActionConcurrency: LIMITS.concurrency.min,
    maxActionConcurrency: LIMITS.concurrency.max,
    maxParameterSize: `${LIMITS.parametersBytes / (1024 * 1024)} MB`,
    maxActionInstances: concurrent,
  };
}

/** One namespace's attempts of one kind in one minute, as an authority keeps them. */
export interface MinuteCount {
  issued: number;
  denied: number;
}

/** The authority's rule: hand out what is left of the limit; an attempt with nothing left is counted as denied. */
export function takeTokens(count: MinuteCount, wanted: number, limit: number): { count: MinuteCount; grant: Grant } {
  const granted = Math.max(0, Math.min(wanted, limit - count.issued));
  const next = { issued: count.issued + granted, denied: count.denied + (granted === 0 ? 1 : 0) };
  return { count: next, grant: { granted, count: next.issued + next.denied } };
}

export interface RateGateOptions {
  authority: GrantAuthority;
  /** A namespace's own limits (read from the store; cached here). */
  limitsOf: (namespace: string) => Promise<NamespaceLimits>;
  /**
   * Tokens asked for at once (default batchSize). A gate in a short-lived or
   * numerous holder (an invoker Durable Object per action) asks for 1: tokens
   * it took but never spent would be lost to the namespace for the minute.
   */
  batch?: (limit: number) => number;
  now?: () => number;
}

/** A namespace's limits are read from the store at most this often (wskadmin changes apply within it). */
export const LIMITS_CACHE_MS = 30_000;

/** `read` behind a per-namespace cache of LIMITS_CACHE_MS: what every limiter asks for a namespace's limits. */
export function cachedLimits(
  read: (namespace: string) => Promise<NamespaceLimits>,
  now: () => number = Date.now,
): (namespace: string) => Promise<NamespaceLimits> {
  const cache = new ExpiringCache<NamespaceLimits>(LIMITS_CACHE_MS, 1_000, now);
  return async (namespace) => {
    const cached = cache.get(namespace);
    if (cached) return cached;
    const limits = await read(namespace);
    cache.set(namespace, limits);
    return limits;
  };
}

/** A controller's side: charges each attempt, asking the authority only when its batch is spent. */
export class RateGate {
  private readonly tokens = new Map<string, { minute: number; left: number }>();
  /** Authority requests in flight per key, each settling once its caller has pooled its spare tokens. */
  private readonly asking = new Map<string, Set<Promise<unknown>>>();
  private readonly limitsOf: (namespace: string) => Promise<NamespaceLimits>;
  private readonly now: () => number;

  constructor(private readonly options: RateGateOptions) {
    this.now = options.now ?? Date.now;
    this.limitsOf = cachedLimits(options.limitsOf, this.now);
  }

  /** Charges one invoke or fire to `namespace`; throws OpenWhisk's 429 when its minute is spent. */
  async admit(namespace: string, kind: ThrottledKind): Promise<void> {
    const limit = perMinuteLimit(kind, await this.limitsOf(namespace));
    const minute = minuteOf(this.now());
    const key = `${kind}:${namespace}`;
    if (this.take(key, minute)) return;
    const asking = this.asking.get(key) ?? new Set();
    this.asking.set(key, asking);
    const wanted = (this.options.batch ?? batchSize)(limit);
    const request = this.options.authority(namespace, kind, minute, wanted, limit).then((grant) => {
      if (grant.granted > 0) this.add(key, minute, grant.granted - 1);
      return grant;
    });
    asking.add(request);
    let grant: Grant;
    try {
      grant = await request;
    } finally {
      asking.delete(request);
      if (asking.size === 0) this.asking.delete(key);
    }
    if (grant.granted > 0) return;
    // Requests asked alongside this one may bring back more than they need: wait for those (not later ones).
    await Promise.allSettled([...asking]);
    if (this.take(key, minute)) return;
    throw new WhiskError(429, Messages.tooManyRequests(grant.count, limit));
  }

  private take(key: string, minute: number): boolean {
    const held = this.tokens.get(key);
    if (!held || held.minute !== minute || held.left === 0) return false;
    held.left--;
    return true;
  }

  private add(key: string, minute: number, tokens: number): void {
    const held = this.tokens.get(key);
    if (held && held.minute === minute) {
      held.left += tokens;
      return;
    }
    if (this.tokens.size >= 10_000) this.tokens.clear();
    this.tokens.set(key, { minute, left: tokens });
  }
}
