// What a host must provide. The API and the core depend only on these
// interfaces; src/cloudflare and src/node each implement them.
import type { ActivationRecord } from "./core/activation.js";
import type { Collection, EntityDraft, StoredEntity } from "./core/entities.js";
export type { EntityDraft, StoredEntity } from "./core/entities.js";
import type { AlarmSchedule } from "./core/alarms.js";
import type { StoredApi } from "./core/apis.js";
import type { EntityRef } from "./core/names.js";
import type { ResolutionCache } from "./core/resolve.js";
import type { NamespaceLimits, ThrottledKind } from "./core/throttle.js";
import type { WebRequest } from "./core/webaction.js";

/** A caller, resolved from its Basic auth key. */
export interface Identity {
  subject: string;
  namespace: string;
  uuid: string;
  /** `uuid:key`, kept only so it can be handed to actions that ask for it. */
  authKey: string;
}

export interface SubjectRecord {
  uuid: string;
  keyHash: string;
  namespace: string;
  subject: string;
}

export interface CodeBlob {
  digest: string;
  text: string;
}

export interface ListPage {
  limit: number;
  skip: number;
}

export interface ActivationFilter {
  name?: string;
  packageName?: string;
  since?: number;
  upto?: number;
}

export interface Store {
  findSubject(uuid: string): Promise<SubjectRecord | undefined>;
  /** Adds or replaces a subject (seeding and administration). */
  putSubject(subject: SubjectRecord): Promise<void>;
  /** The subject owning a namespace (web actions run as their namespace's owner). */
  findNamespaceOwner(namespace: string): Promise<SubjectRecord | undefined>;
  /** A namespace's own limits; empty when it has none (system defaults apply). */
  getNamespaceLimits(namespace: string): Promise<NamespaceLimits>;
  /** Sets a namespace's own limits; undefined removes them. */
  putNamespaceLimits(namespace: string, limits: NamespaceLimits | undefined): Promise<void>;

  getEntity(ref: EntityRef): Promise<StoredEntity | undefined>;
  getCode(digest: string): Promise<string | undefined>;
  /** Stores a new entity; false when the name is taken (in any collection). */
  createEntity<C extends Collection>(entity: EntityDraft<C>, code?: CodeBlob): Promise<boolean>;
  /** Replaces an entity if it is still at revision `expectedRev`; false on a concurrent change. */
  updateEntity<C extends Collection>(entity: EntityDraft<C>, expectedRev: number, code?: CodeBlob): Promise<boolean>;
  /** Deletes an entity if it is still at revision `expectedRev`; false on a concurrent change. */
  deleteEntity(ref: EntityRef, expectedRev: number): Promise<boolean>;
  /** Entities of a collection in a namespace, newest first; `packageName` narrows to one package. */
  listEntities<C extends Collection>(namespace: string, collection: C, page: ListPage, packageName?: string): Promise<StoredEntity<C>[]>;
  countEntities(namespace: string, collection: Collection, packageName?: string): Promise<number>;
  /** Published packages of a namespace (for other namespaces to see). */
  listPublicPackages(namespace: string, page: ListPage): Promise<StoredEntity<"packages">[]>;

  /** Records an activation once; false when a record with its id already exists. */
  putActivation(record: ActivationRecord): Promise<boolean>;
  /** Records many activations at once, each once (used by write-behind outboxes). */
  putActivations(records: ActivationRecord[]): Promise<void>;
  getActivation(namespace: string, activationId: string): Promise<ActivationRecord | undefined>;
  /** Activations of a namespace, newest first. */
  listActivations(namespace: string, filter: ActivationFilter, page: ListPage): Promise<ActivationRecord[]>;
  countActivations(namespace: string, filter: ActivationFilter): Promise<number>;
  /** Removes activations that started before `before` (epoch ms); returns how many. */
  deleteActivationsBefore(before: number): Promise<number>;

  /**
   * Journals an accepted message before it is queued (src/invoker/journal.ts):
   * adds the entry, or re-stamps an existing one with `boot` and `at` and
   * counts one more attempt.
   */
  journalDispatch(entry: { activationId: string; namespace: string; message: DispatchMessage; boot: string; at: number }): Promise<void>;
  /** Journal entries whose activation has no record, queued by another run than `otherThanBoot` or before `dispatchedBefore`; oldest first. */
  listJournal(query: { otherThanBoot: string; dispatchedBefore: number; limit: number }): Promise<JournalEntry[]>;
  /** Forgets the journal entries whose activation is recorded; returns how many. */
  pruneJournal(): Promise<number>;
  deleteJournalEntry(activationId: string): Promise<void>;

  /** A tenant's gateway APIs, oldest first. */
  listApis(tenant: string): Promise<StoredApi[]>;
  /** Stores an API: new when `expectedRev` is undefined, else only if still at that revision; false otherwise. */
  saveApi(api: Omit<StoredApi, "rev">, expectedRev: number | undefined): Promise<boolean>;
  /** Deletes an API if it is still at revision `expectedRev`; false on a concurrent change. */
  deleteApi(tenant: string, key: string, expectedRev: number): Promise<boolean>;
}

/** A unit of asynchronous work: a non-blocking activation or a trigger fire. */
export type DispatchMessage = { type: "invoke"; request: InvokeRequest } | { type: "fire"; fire: TriggerFire };

/** A trigger fire accepted by the controller, with the trigger as it was when fired. */
export interface TriggerFire {
  activationId: string;
  transactionId: string;
  trigger: EntityRef;
  triggerVersion: string;
  triggerParams: { key: string; value: unknown }[];
  rules: Record<string, { action: { path: string; name: string }; status: "active" | "inactive" }>;
  identity: Identity;
  payload: Record<string, unknown>;
  /** Lower-cased request headers, passed to rule actions as __ow_headers. */
  headers: Record<string, string>;
  receivedAt: number;
  apiHost: string;
}

/** An accepted message kept until its activation is recorded (src/invoker/journal.ts). */
export interface JournalEntry {
  activationId: string;
  namespace: string;
  message: DispatchMessage;
  /** The server run that queued it last. */
  boot: string;
  /** When it was queued last (epoch ms). */
  dispatchedAt: number;
  /** How many times it has been queued. */
  attempts: number;
}

export interface Dispatcher {
  dispatch(message: DispatchMessage): Promise<void>;
}

/** Everything an invoker needs to run one activation. */
export interface InvokeRequest {
  activationId: string;
  transactionId: string;
  /** The action as the caller named it (possibly through a package binding). */
  action: EntityRef;
  identity: Identity;
  params: Record<string, unknown>;
  /** When the request reached the controller (epoch ms), for waitTime. */
  receivedAt: number;
  cause?: string;
  /** Annotations added to the record (e.g. causedBy for sequence components). */
  extraAnnotations?: { key: string; value: unknown }[];
  /** What actions see as __OW_API_HOST. */
  apiHost: string;
  /**
   * The activation holds a place of its namespace's concurrentInvocations
   * (ConcurrencyGate), which whoever ends it releases. Set where the
   * controller admitted it; sequence components and conductor steps hold none.
   */
  leased?: true;
}

/** A request to a web action, as the controller hands it to the action's invoker. */
export interface WebInvokeRequest {
  activationId: string;
  transactionId: string;
  /** The action the URL names; its namespace is the owner's. */
  action: EntityRef;
  web: WebRequest;
  /** The caller, when the request carried valid credentials. */
  user?: Identity;
  receivedAt: number;
  apiHost: string;
}

export type WebOutcome =
  /** An OPTIONS request the platform answers itself (CORS). */
  | { kind: "options" }
  | { kind: "record"; record: ActivationRecord; customOptions: boolean };

export interface Invokers {
  /** Runs an activation and answers its record once it is complete. */
  invoke(request: InvokeRequest): Promise<ActivationRecord>;
  /** Checks and runs a web action request (the invoker holds the action's web annotations). */
  invokeWeb(request: WebInvokeRequest): Promise<WebOutcome>;
  /** Tells the invokers holding `ref` to forget cached copies of it. */
  invalidate(refs: EntityRef[]): Promise<void>;
}

/** A trigger's alarm as its feed sees it (READ). */
export interface AlarmState {
  schedule: AlarmSchedule;
  active: boolean;
  /** Epoch ms of the last status change. */
  dateChanged: number;
  /** Epoch ms of the next fire, if one is due. */
  nextFire?: number;
}

/** Where a host keeps alarm schedules and fires their triggers (the /whisk.system/alarms provider). */
export interface AlarmService {
  /**
   * Starts firing `trigger` on `schedule` as `owner`, replacing any previous
   * schedule; `apiHost` is what the fired actions see as __OW_API_HOST.
   */
  create(trigger: EntityRef, owner: Identity, schedule: AlarmSchedule, apiHost: string): Promise<void>;
  read(trigger: EntityRef): Promise<AlarmState | undefined>;
  update(trigger: EntityRef, schedule: AlarmSchedule): Promise<boolean>;
  /** Pauses (no fires, none replayed later) or resumes; false when there is no alarm. */
  setActive(trigger: EntityRef, active: boolean): Promise<boolean>;
  /** Stops and forgets the alarm; true when there was one. */
  delete(trigger: EntityRef): Promise<boolean>;
}

/** Per-namespace rate limits (see src/core/throttle.ts). */
export interface Throttle {
  /** Charges one invoke or trigger fire to `namespace`; throws a 429 WhiskError when its minute's limit is spent. */
  admit(namespace: string, kind: ThrottledKind): Promise<void>;
}

/**
 * Per-namespace concurrent activations (`concurrentInvocations`; the rule is
 * in src/core/concurrency.ts). A place is leased per activation id, from
 * admission until the activation ends, and expires by itself after `ttlMs`.
 */
export interface ConcurrencyGate {
  /** Takes a place for the activation; throws OpenWhisk's 429 when the namespace has its limit in flight. Idempotent per id. */
  acquire(namespace: string, activationId: string, ttlMs?: number): Promise<void>;
  /** Frees the activation's place (nothing happens when it holds none). */
  release(namespace: string, activationId: string): Promise<void>;
}

/** The ports a request is served with. */
export interface Host {
  store: Store;
  dispatcher: Dispatcher;
  invokers: Invokers;
  alarms: AlarmService;
  throttle: Throttle;
  concurrency: ConcurrencyGate;
  /**
   * The actions this controller resolved for invokes, kept for the next ones
   * (src/core/resolve.ts): one per controller process or isolate, so that
   * its own writes invalidate it at once.
   */
  resolutions: ResolutionCache;
  /** Schedules work that must finish after the response (Workers: ctx.waitUntil). */
  defer(work: Promise<unknown>): void;
  /**
   * What actions see as __OW_API_HOST (configuration: API_HOST). Unset, the
   * origin a request came in on stands in, which suits only a local server:
   * that origin is whatever Host header the caller sent.
   */
  apiHost?: string;
}
