// Per-namespace concurrent activations (`concurrentInvocations`), as
// OpenWhisk counts them: every activation the controller admitted and that
// has not ended, queued or running, holds a place; one more is refused with
// `Too many concurrent requests in flight (count: N, allowed: M).` when N,
// the activations already in flight, has reached the limit.
//
// Places are leases kept by one authority per namespace (a Durable Object,
// PostgreSQL rows), each ending when it is released or when it expires: a
// controller or invoker that crashes with places in hand never leaks the
// namespace's places for longer than the longest an activation can live.
//
// A lease is named by a place a limiter took for itself (`hold`: for an
// activation whose end the same limiter sees, a blocking invoke or a web
// request), or by an activation (`acquire` with a lease time of its own).
// A limiter keeps its places after their activation ends and
// hands them to the next one without asking the authority; a place left
// unused for PARKED_MS goes back (or up to RETURN_EARLY_MS sooner, with
// others due then). The authority counts every place, used or parked,
// so the namespace never has more than its limit in flight; an acquirer the
// authority refuses while other limiters hold places waits for their parked
// ones to come back before it answers 429.
//
// A queued activation, which ends somewhere else, gets one of the limiter's
// places too (`acquire`). A host that can tell every limiter of an
// activation's end (PlaceReturns: NATS on the Node host) lends it: whoever
// ends the activation sends its id to every limiter, the lender taking its
// place back. Elsewhere the place is handed over: the limiter forgets it,
// and the activation carries its lease's name for whoever ends it to
// release at the authority. A place lent or handed to an activation whose
// end is never heard of is the authority's again when its lease expires,
// as any lease is. A limiter
// short of places asks for several at once (placesToAsk), and misses that
// meet while one ask is in flight wait for it instead of asking again.
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

/** How the leases of places a limiter holds (not of one activation) are named. */
export const PLACE_PREFIX = "place:";
/**
 * A place a limiter holds goes back to the authority once unused this long:
 * longer than the gap between one activation's end and the next one's
 * start in a busy controller (a few ms; past 100 ms was measured on an
 * overloaded machine), short enough that an acquirer refused while such
 * places exist can wait for them.
 */
export const PARKED_MS = 250;
/**
 * A held place is handed to an activation only while its lease has at least
 * LEASE_TTL_MS - RENEW_AFTER_MS (over five minutes) to run; an older one is
 * given back and a fresh one taken.
 */
export const RENEW_AFTER_MS = 30_000;
/**
 * A parked place may go back up to this much before PARKED_MS, with others
 * whose give-back is due then: a limiter whose places end one by one (a
 * queue draining) makes one round trip per RETURN_EARLY_MS, not one per place.
 */
export const RETURN_EARLY_MS = PARKED_MS / 4;
/** How often an acquirer refused while others hold places waits PARKED_MS (and a little) for their parked ones before its 429. */
export const REFUSAL_RETRIES = 1;

/** A limiter's last ask for places of a namespace. */
export interface LastAsk {
  at: number;
  size: number;
}

/**
 * Places a limiter asks for in one round trip when it has none to spare:
 * one, or twice as many as last time when that was less than PARKED_MS ago
 * (a load rising faster than one place per round trip then takes a
 * logarithmic number of them, and spares it does not use within PARKED_MS
 * go back as parked places do); at most a twentieth of the limit, as rate
 * tokens are taken, so one limiter's spares keep little of the namespace
 * from the others.
 */
export function placesToAsk(limit: number, last: LastAsk | undefined, now: number): number {
  const wanted = last && now - last.at < PARKED_MS ? last.size * 2 : 1;
  return Math.max(1, Math.min(wanted, Math.floor(limit / 20), 1_000));
}

/** What releases an admitted activation's place: the name of the lease it was handed (`lease`), or else its id. */
export const leaseOf = (request: { activationId: string; lease?: string }): string => request.lease ?? request.activationId;

/** One lease, as an authority keeps it. */
export interface Lease {
  /** An activation id, or a place's name (PLACE_PREFIX…). */
  activationId: string;
  /** Epoch ms after which the place is free again. */
  expiresAt: number;
}

/** One round trip to an authority: leases to end, then leases to take or extend. */
export interface LeaseChange {
  /** Leases to end first (activations ended, places given back); unknown ones are ignored. */
  release: readonly string[];
  /** Leases to take in order while fewer than `limit` are in flight, or to extend when held already (an acquire is idempotent per id). */
  acquire: readonly string[];
  ttlMs: number;
  limit: number;
}

/** What an authority answers a LeaseChange. */
export interface Settlement {
  /** The ids of `acquire` that hold a place now, in order. */
  admitted: string[];
  /** Leases in flight besides those asked for (OpenWhisk's `count` in a refusal). */
  count: number;
  /** Of `count`, places limiters hold (in use or parked). */
  pooled: number;
}

/** The authority's decision: a Settlement, and the leases to drop for having expired. */
export interface SettlementDecision extends Settlement {
  expired: string[];
}

/** Whether a lease names a place a limiter holds, not an activation. */
export const isPlace = (id: string) => id.startsWith(PLACE_PREFIX);

/**
 * The authority's rule. Expired and released leases are dropped; an id that
 * holds a place keeps it (a redelivered message asks again); otherwise an
 * id is admitted while fewer than `limit` are in flight. An admitted id's
 * lease is (re)written to expire at now + ttlMs.
 */
export function settleLeases(leases: readonly Lease[], change: Omit<LeaseChange, "ttlMs">, now: number): SettlementDecision {
  const releasing = new Set(change.release);
  const asked = new Set(change.acquire);
  const expired: string[] = [];
  const held = new Set<string>();
  let count = 0;
  let pooled = 0;
  for (const { activationId: id, expiresAt } of leases) {
    if (expiresAt <= now) expired.push(id);
    else if (releasing.has(id)) continue;
    else if (asked.has(id)) held.add(id);
    else {
      count++;
      if (isPlace(id)) pooled++;
    }
  }
  return { expired, admitted: admitInOrder(change.acquire, held, count, change.limit), count, pooled };
}

/**
 * The ids of `acquire` admitted, in order: one `held` already whatever the
 * limit, any other while fewer than `limit` are in flight (`count` besides
 * those asked for); an id asked twice counts once.
 */
export function admitInOrder(acquire: readonly string[], held: ReadonlySet<string>, count: number, limit: number): string[] {
  const admitted: string[] = [];
  const seen = new Set<string>();
  let inFlight = count;
  for (const id of acquire) {
    if (seen.has(id)) continue;
    seen.add(id);
    if (held.has(id) || inFlight < limit) {
      admitted.push(id);
      inFlight++;
    }
  }
  return admitted;
}

export interface LeaseDecision {
  /** Leases past their expiry: the authority drops them. */
  expired: string[];
  /** True when the activation holds a place (newly, or already: an acquire is idempotent per activation). */
  admitted: boolean;
  /** Activations in flight besides this one (OpenWhisk's `count`). */
  count: number;
}

/** settleLeases for one activation alone. */
export function decideLease(leases: readonly Lease[], activationId: string, now: number, limit: number): LeaseDecision {
  const decision = settleLeases(leases, { release: [], acquire: [activationId], limit }, now);
  return { expired: decision.expired, admitted: decision.admitted.length > 0, count: decision.count };
}

/** What an authority answers one activation's acquire. */
export type LeaseGrant = Pick<LeaseDecision, "admitted" | "count">;

/** The keeper of one namespace's leases (a Durable Object, PostgreSQL rows); it applies settleLeases. */
export interface LeaseAuthority {
  settle(namespace: string, change: LeaseChange): Promise<Settlement>;
}

/**
 * How the ends of activations that hold lent places reach their lender: a
 * message every limiter of the installation hears (ConcurrencyLimiter.returned).
 */
export interface PlaceReturns {
  /** Tells every limiter that these activations of `namespace` ended. */
  send(namespace: string, activationIds: readonly string[]): Promise<void>;
}

export function concurrencyLimit(limits: NamespaceLimits): number {
  return limits.concurrentInvocations ?? LIMITS.concurrentInvocations;
}

export interface ConcurrencyLimiterOptions {
  authority: LeaseAuthority;
  /** A namespace's own limits (read from the store; cached here). */
  limitsOf: (namespace: string) => Promise<NamespaceLimits>;
  now?: () => number;
  /** Waits `ms` (tests pass their own clock's). */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Keeps alive the work a release leaves behind (giving the place back
   * PARKED_MS later) past the request that released it: Workers end a
   * request's timers with it unless it is told to wait (waitUntil).
   */
  keepAlive?: (work: Promise<unknown>) => void;
  /** This limiter's name in its places' leases (random by default). */
  holder?: string;
  /**
   * Given, `acquire` lends the limiter's own places and a release of an
   * activation this limiter does not hold goes here, to its lender, instead
   * of to the authority; the host delivers what other limiters send to
   * `returned`.
   */
  returns?: PlaceReturns;
}

/** A place this limiter holds: its lease's expiry, and the activation using it, if any. */
interface Place {
  id: string;
  expiresAt: number;
  activation?: string;
  /** The pool's count of parkings when it was last left unused. */
  parkedAt: number;
}

interface Pool {
  places: Map<string, Place>;
  byActivation: Map<string, Place>;
  /** Parkings so far: a give-back takes only places unused since its own. */
  parkings: number;
  /** The last give-back scheduled: when it runs (this.now() terms), and the parkings it covers. */
  returning?: { at: number; until: number };
}

/** A place in use, as a limiter that stops hands it to another (ConcurrencyLimiter.leave, adopt). */
export interface PlaceInUse {
  namespace: string;
  /** The place's lease. */
  id: string;
  expiresAt: number;
  activationId: string;
}

/** The last ask of each namespace (kept apart from pools, which are dropped once empty). */
const ASKS_KEPT = 1_000;

/**
 * Handed-over places a limiter remembers by activation; a release by the id
 * of one it has forgotten goes to the authority under that id and ends
 * nothing, so callers release by the lease acquire answered.
 */
const HANDED_KEPT = 10_000;

/** Releases by id waiting for one round trip together (one batch per namespace). */
interface ReleaseBatch {
  ids: Set<string>;
  flight?: Promise<unknown>;
}

/** An ask for places in flight: the misses that meet it wait for it. */
type Ask = Promise<unknown>;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The ConcurrencyGate port over an authority. `acquire` and a release of an
 * acquired activation are one round trip each (releases of one namespace
 * that meet in flight share one), unless the limiter lends its places
 * (`returns`); `hold`, a lent `acquire` and their releases are usually none,
 * as places stay with the limiter for the next activation until they have
 * been unused for PARKED_MS.
 */
export class ConcurrencyLimiter {
  private readonly limitsOf: (namespace: string) => Promise<NamespaceLimits>;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly holder: string;
  private readonly pools = new Map<string, Pool>();
  private readonly releases = new Map<string, ReleaseBatch>();
  private readonly asks = new Map<string, Ask>();
  private readonly lastAsks = new Map<string, LastAsk>();
  /** The leases of places handed over by acquire, by activation (at most HANDED_KEPT): a repeated acquire answers the same, a release by the activation's id ends it. */
  private readonly handed = new Map<string, string>();
  private serial = 0;

  constructor(private readonly options: ConcurrencyLimiterOptions) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? defaultSleep;
    this.limitsOf = cachedLimits(options.limitsOf, this.now);
    this.holder = options.holder ?? crypto.randomUUID().replaceAll("-", "").slice(0, 16);
  }

  /**
   * Takes a place for `activationId` that whoever ends the activation can
   * release, and answers the name to release it by when that is not the
   * activation's id. With `returns`, a place of this limiter's own is lent
   * (its end comes back by id). Otherwise one of its places is handed over:
   * taken as `hold` takes it (asking the authority for several at once when
   * it has none to spare), then no longer this limiter's, its lease's name
   * travelling with the activation, whose release ends it at the authority
   * (releases that meet in flight share a round trip). A queued activation
   * so costs an ask only when the limiter runs short: a round trip per
   * accept was most of the non-blocking path's extra cost over a blocking
   * invoke on Cloudflare (November 2026). A `ttlMs` other than
   * LEASE_TTL_MS leases the activation's own id instead. Throws OpenWhisk's
   * 429 when `namespace` has its limit in flight. Idempotent per id.
   */
  async acquire(namespace: string, activationId: string, ttlMs: number = LEASE_TTL_MS): Promise<string | undefined> {
    if (this.options.returns) {
      await this.hold(namespace, activationId);
      return undefined;
    }
    if (ttlMs === LEASE_TTL_MS) return this.handOver(namespace, activationId);
    const limit = concurrencyLimit(await this.limitsOf(namespace));
    for (let attempt = 0; ; attempt++) {
      // A parked place of ours gives way to the activation in the same round trip.
      const pool = this.pools.get(namespace);
      const parked = pool && this.takeParked(pool, () => true);
      const release = parked ? [parked.id] : [];
      const ours = pool?.places.size ?? 0;
      if (pool) this.dropIfEmpty(namespace, pool);
      const answer = await this.options.authority.settle(namespace, { release, acquire: [activationId], ttlMs, limit });
      if (answer.admitted.length > 0) return undefined;
      if (!(await this.waitForParked(answer, ours, attempt))) {
        throw new WhiskError(429, Messages.tooManyConcurrentRequests(answer.count, limit));
      }
    }
  }

  private async handOver(namespace: string, activationId: string): Promise<string> {
    const already = this.handed.get(activationId);
    if (already) return already;
    await this.hold(namespace, activationId);
    const pool = this.pools.get(namespace);
    const place = pool?.byActivation.get(activationId);
    // hold assigned it just now, with nothing awaited since.
    if (!pool || !place) throw new Error(`no place held for ${activationId} after hold`);
    pool.byActivation.delete(activationId);
    pool.places.delete(place.id);
    this.dropIfEmpty(namespace, pool);
    this.handed.set(activationId, place.id);
    if (this.handed.size > HANDED_KEPT) this.handed.delete(this.handed.keys().next().value!);
    return place.id;
  }

  /**
   * Takes a place for `activationId` from this limiter's own (asking the
   * authority when it has none to spare); only this limiter can release it
   * (or, with `returns`, the end of the activation heard of anywhere).
   * Idempotent per id.
   */
  async hold(namespace: string, activationId: string): Promise<void> {
    const limit = concurrencyLimit(await this.limitsOf(namespace));
    for (let attempt = 0; ; ) {
      // Fetched again after every wait: a pool left empty is dropped meanwhile.
      const pool = this.pool(namespace);
      if (pool.byActivation.has(activationId)) return;
      const now = this.now();
      const fresh = this.takeParked(pool, (place) => place.expiresAt - now >= LEASE_TTL_MS - RENEW_AFTER_MS);
      if (fresh) return this.assign(pool, fresh, activationId);
      const asking = this.asks.get(namespace);
      if (asking) {
        // Another miss is asking: what it brings beyond its own need is parked here.
        await asking.catch(() => undefined);
        continue;
      }
      // Parked places too old to hand out go back in the round trip that takes new ones.
      const stale: string[] = [];
      for (let place = this.takeParked(pool, () => true); place; place = this.takeParked(pool, () => true)) stale.push(place.id);
      const ours = pool.places.size;
      const answer = await this.ask(namespace, limit, activationId, stale);
      if (answer.admitted.length > 0) return;
      if (!(await this.waitForParked(answer, ours, attempt++))) {
        throw new WhiskError(429, Messages.tooManyConcurrentRequests(answer.count, limit));
      }
    }
  }

  /**
   * One round trip for places: gives back `stale` ones, asks for
   * placesToAsk new ones, hands the first to `activationId` and parks the
   * others.
   */
  private async ask(namespace: string, limit: number, activationId: string, stale: string[]): Promise<Settlement> {
    const now = this.now();
    const size = placesToAsk(limit, this.lastAsks.get(namespace), now);
    this.lastAsks.delete(namespace);
    this.lastAsks.set(namespace, { at: now, size });
    if (this.lastAsks.size > ASKS_KEPT) this.lastAsks.delete(this.lastAsks.keys().next().value!);
    const ids = Array.from({ length: size }, () => `${PLACE_PREFIX}${this.holder}:${++this.serial}`);
    const asking = this.options.authority.settle(namespace, { release: stale, acquire: ids, ttlMs: LEASE_TTL_MS, limit });
    this.asks.set(namespace, asking);
    let answer: Settlement;
    try {
      answer = await asking;
    } finally {
      if (this.asks.get(namespace) === asking) this.asks.delete(namespace);
    }
    const current = this.pool(namespace);
    const spare = [...answer.admitted];
    // Their expiry is counted from before the round trip: the authority's is no earlier.
    const first = current.byActivation.has(activationId) ? undefined : spare.shift();
    if (first) this.assign(current, { id: first, expiresAt: now + LEASE_TTL_MS, parkedAt: current.parkings }, activationId);
    if (spare.length > 0) {
      current.parkings++;
      for (const id of spare) current.places.set(id, { id, expiresAt: now + LEASE_TTL_MS, parkedAt: current.parkings });
      this.scheduleReturn(namespace, current);
    }
    this.dropIfEmpty(namespace, current);
    return answer;
  }

  /**
   * Frees the place of an activation, or the place a lease names (one
   * `acquire` handed over): a held or lent one stays with this limiter for
   * the next activation (and goes back PARKED_MS later if none takes it); a
   * handed-over one is released at the authority, as is any this limiter
   * does not hold, unless it has a lender (`returns`). Releasing what holds
   * no place does nothing.
   */
  async release(namespace: string, activationIdOrLease: string): Promise<void> {
    if (this.park(namespace, activationIdOrLease)) return;
    // A handed-over place is never parked again: its name must not serve a second activation while a
    // repeated release of the first (from another process, say) could still end it at the authority.
    const handed = this.handed.get(activationIdOrLease);
    if (handed) this.handed.delete(activationIdOrLease);
    await this.releaseElsewhere(namespace, handed ?? activationIdOrLease);
  }

  /** Takes back the places lent to these activations of `namespace`, which ended in another process; ids lent by other limiters are none of this one's. */
  returned(namespace: string, activationIds: readonly string[]): void {
    for (const id of activationIds) this.park(namespace, id);
  }

  /** Parks the place `activationId` holds here, answering whether it held one. */
  private park(namespace: string, activationId: string): boolean {
    const pool = this.pools.get(namespace);
    const place = pool?.byActivation.get(activationId);
    if (!pool || !place) return false;
    pool.byActivation.delete(activationId);
    place.activation = undefined;
    if (place.expiresAt <= this.now()) {
      // Its lease has expired: the place is the authority's again.
      pool.places.delete(place.id);
      this.dropIfEmpty(namespace, pool);
      return true;
    }
    place.parkedAt = ++pool.parkings;
    this.scheduleReturn(namespace, pool);
    return true;
  }

  /**
   * For a limiter whose process stops: gives its parked places back to the
   * authority and answers those in use (lent to activations still queued or
   * running elsewhere), which it forgets, for another limiter to adopt and
   * take back when their ends are heard of. Places nobody adopts expire.
   */
  async leave(): Promise<PlaceInUse[]> {
    const inUse: PlaceInUse[] = [];
    const giveBack: Promise<unknown>[] = [];
    const now = this.now();
    for (const [namespace, pool] of this.pools) {
      const parked: string[] = [];
      for (const place of pool.places.values()) {
        if (place.expiresAt <= now) continue;
        if (place.activation) inUse.push({ namespace, id: place.id, expiresAt: place.expiresAt, activationId: place.activation });
        else parked.push(place.id);
      }
      if (parked.length > 0) giveBack.push(this.options.authority.settle(namespace, { release: parked, acquire: [], ttlMs: LEASE_TTL_MS, limit: 0 }));
    }
    this.pools.clear();
    await Promise.all(giveBack);
    return inUse;
  }

  /** Takes over places another limiter left in use (leave): they come back here when their activations' ends are heard of. */
  adopt(places: readonly PlaceInUse[]): void {
    const now = this.now();
    for (const { namespace, id, expiresAt, activationId } of places) {
      if (expiresAt <= now) continue;
      const pool = this.pool(namespace);
      if (pool.byActivation.has(activationId) || pool.places.has(id)) continue;
      this.assign(pool, { id, expiresAt, parkedAt: pool.parkings }, activationId);
    }
  }

  /** Places this limiter holds for `namespace` now, and how many of them are in use. */
  held(namespace: string): { places: number; inUse: number } {
    const pool = this.pools.get(namespace);
    return { places: pool?.places.size ?? 0, inUse: pool?.byActivation.size ?? 0 };
  }

  private pool(namespace: string): Pool {
    let pool = this.pools.get(namespace);
    if (!pool) {
      pool = { places: new Map(), byActivation: new Map(), parkings: 0 };
      this.pools.set(namespace, pool);
    }
    // A place whose lease has expired is the authority's again, used or not.
    const now = this.now();
    for (const place of pool.places.values()) {
      if (place.expiresAt > now) continue;
      pool.places.delete(place.id);
      if (place.activation) pool.byActivation.delete(place.activation);
    }
    return pool;
  }

  private dropIfEmpty(namespace: string, pool: Pool): void {
    if (pool.places.size === 0 && this.pools.get(namespace) === pool) this.pools.delete(namespace);
  }

  /** Removes and answers a parked place that `fits`. */
  private takeParked(pool: Pool, fits: (place: Place) => boolean): Place | undefined {
    for (const place of pool.places.values()) {
      if (place.activation || !fits(place)) continue;
      pool.places.delete(place.id);
      return place;
    }
    return undefined;
  }

  private assign(pool: Pool, place: Place, activationId: string): void {
    place.activation = activationId;
    pool.places.set(place.id, place);
    pool.byActivation.set(activationId, place);
  }

  /**
   * After a refusal: when other limiters hold places (some may be parked,
   * and go back within PARKED_MS), waits for them and answers true to ask
   * again; false when the refusal stands.
   */
  private async waitForParked(answer: Settlement, ours: number, attempt: number): Promise<boolean> {
    if (attempt >= REFUSAL_RETRIES || answer.pooled <= ours) return false;
    // Their give-back is due by then; the slack is for its round trip and a late timer on a busy machine.
    await this.sleep(PARKED_MS + RETURN_EARLY_MS);
    return true;
  }

  /**
   * Gives back, PARKED_MS from now, the places that are unused since now;
   * a give-back scheduled already that runs no more than RETURN_EARLY_MS
   * sooner takes them instead.
   */
  private scheduleReturn(namespace: string, pool: Pool): void {
    const now = this.now();
    const latest = pool.returning;
    if (latest && latest.at - now >= PARKED_MS - RETURN_EARLY_MS) {
      latest.until = pool.parkings;
      return;
    }
    const returning = { at: now + PARKED_MS, until: pool.parkings };
    pool.returning = returning;
    const work = this.sleep(PARKED_MS).then(() => {
      if (pool.returning === returning) pool.returning = undefined;
      return this.returnParked(namespace, pool, returning.until);
    });
    const logged = work.catch((err) => console.error(`giving back places of ${namespace} failed (they expire):`, err));
    this.options.keepAlive?.(logged);
  }

  private async returnParked(namespace: string, pool: Pool, unusedSince: number): Promise<void> {
    if (this.pools.get(namespace) !== pool) return;
    const ids: string[] = [];
    for (const place of pool.places.values()) {
      if (place.activation || place.parkedAt > unusedSince) continue;
      ids.push(place.id);
    }
    for (const id of ids) pool.places.delete(id);
    this.dropIfEmpty(namespace, pool);
    if (ids.length === 0) return;
    await this.options.authority.settle(namespace, { release: ids, acquire: [], ttlMs: LEASE_TTL_MS, limit: 0 });
  }

  /**
   * Releases a place this limiter does not hold: to its lender with
   * `returns`, else the activation's own lease at the authority. Releases of
   * one namespace that meet in flight go together.
   */
  private async releaseElsewhere(namespace: string, activationId: string): Promise<void> {
    let batch = this.releases.get(namespace);
    if (!batch) {
      batch = { ids: new Set() };
      this.releases.set(namespace, batch);
    }
    batch.ids.add(activationId);
    while (batch.ids.has(activationId)) {
      if (batch.flight) {
        await batch.flight.catch(() => undefined);
        continue;
      }
      const ids = [...batch.ids];
      batch.ids.clear();
      const { returns } = this.options;
      const flight = returns
        ? returns.send(namespace, ids)
        : this.options.authority.settle(namespace, { release: ids, acquire: [], ttlMs: LEASE_TTL_MS, limit: 0 });
      batch.flight = flight;
      try {
        await flight;
      } finally {
        batch.flight = undefined;
        if (batch.ids.size === 0 && this.releases.get(namespace) === batch) this.releases.delete(namespace);
      }
    }
  }
}
