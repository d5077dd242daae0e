// The Store port: entities, code, subjects and limits, activation records,
// the dispatch journal and gateway APIs. One implementation serves both
// hosts, src/store/sql-store.ts, over the SqlDatabase port (sql-database.ts).
import type { ActivationRecord } from "../core/activation.js";
import type { Collection, EntityDraft, StoredEntity } from "../core/entities.js";
export type { EntityDraft, StoredEntity } from "../core/entities.js";
import type { StoredApi } from "../core/apis.js";
import type { EntityRef } from "../core/names.js";
import type { NamespaceLimits } from "../core/throttle.js";
import type { DispatchMessage } from "./dispatcher.js";

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
  /** Records many activations at once, each once; for each, false when a record with its id already existed. */
  putActivations(records: ActivationRecord[]): Promise<boolean[]>;
  getActivation(namespace: string, activationId: string): Promise<ActivationRecord | undefined>;
  /** Activations of a namespace, newest first. */
  listActivations(namespace: string, filter: ActivationFilter, page: ListPage): Promise<ActivationRecord[]>;
  countActivations(namespace: string, filter: ActivationFilter): Promise<number>;
  /** Removes activations that started before `before` (epoch ms); returns how many. */
  deleteActivationsBefore(before: number): Promise<number>;

  /**
   * Journals an accepted message before it is queued (src/activation/journal.ts):
   * adds the entry, or re-stamps an existing one with `boot` and `at` and
   * counts one more attempt.
   */
  journalDispatch(entry: JournalDraft): Promise<void>;
  /** Journals several entries as journalDispatch does, in one write (src/activation/journal.ts gathers them). */
  journalDispatches(entries: JournalDraft[]): Promise<void>;
  /**
   * Journals `entries` as journalDispatch does and records `record` once, in
   * one transaction: a fire's rule activations and the fire's own record
   * (src/activation/journal.ts). False when a record with its id existed
   * (the entries are journaled all the same).
   */
  journalWithRecord(entries: JournalDraft[], record: ActivationRecord): Promise<boolean>;
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

/** A message to journal: by its activation id, queued by server run `boot` at `at` (epoch ms). */
export interface JournalDraft {
  activationId: string;
  namespace: string;
  message: DispatchMessage;
  boot: string;
  at: number;
}

/** An accepted message kept until its activation is recorded (src/activation/journal.ts). */
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
