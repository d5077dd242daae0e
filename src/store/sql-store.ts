// The Store port over any SQL database that runs migrations/ (D1, PostgreSQL):
// the SQL of the port's tables (subjects, limits, entities, blobs,
// activations, dispatch journal, APIs), which adapters only execute. Other
// SQL lives elsewhere: the Node host's own tables in src/store/alarm-rows.ts
// and throttle-rows.ts, the schemas in migrations/ and src/node/migrations/,
// and statements hosts issue for themselves (transactions and migration
// bookkeeping in src/node, readiness probes, wskadmin's `SELECT changes()`).
import type { ActivationRecord } from "../core/activation.js";
import { isOfCollection, type AnyEntityDoc, type Collection, type EntityDraft } from "../core/entities.js";
import type { EntityRef } from "../core/names.js";
import type { ApiDocument, StoredApi } from "../core/apis.js";
import type { NamespaceLimits } from "../core/throttle.js";
import type { ActivationFilter, CodeBlob, JournalDraft, JournalEntry, ListPage, Store, StoredEntity, SubjectRecord } from "../ports/store.js";
import type { DispatchMessage } from "../ports/dispatcher.js";
import type { SqlDatabase, SqlStatement } from "../ports/sql-database.js";

/** Characters per chunk; at most 3 UTF-8 bytes each keeps a row well under D1's 2 MB. */
const CHUNK_CHARS = 500_000;

interface EntityRow {
  namespace: string;
  package: string;
  name: string;
  collection: Collection;
  doc: string;
  code_digest: string | null;
  rev: number | string;
}

interface ActivationRow {
  activation_id: string;
  doc: string | null;
}

const sql = (text: string, ...params: unknown[]): SqlStatement => ({ sql: text, params });

function chunks(text: string): string[] {
  const parts: string[] = [];
  for (let at = 0; at < text.length; at += CHUNK_CHARS) parts.push(text.slice(at, at + CHUNK_CHARS));
  return parts.length ? parts : [""];
}

function blobInserts(id: string, text: string): SqlStatement[] {
  return chunks(text).map((chunk, seq) =>
    sql("INSERT INTO blobs (id, seq, chunk) VALUES (?, ?, ?) ON CONFLICT (id, seq) DO NOTHING", id, seq, chunk),
  );
}

/*
 * Code is shared by digest and collected when its last entity lets go of
 * it. Under READ COMMITTED (PostgreSQL) a collection that checks "no entity
 * refers to it" cannot see a concurrent write's uncommitted entity row, and
 * an `INSERT ... DO NOTHING` that found the blob holds nothing on it: the
 * collection could delete the blob that write goes on to refer to. So both
 * sides meet on one row, the blob's first chunk (its anchor):
 *
 * - a write storing code upserts the anchor with a no-op `DO UPDATE`, which
 *   row-locks an existing anchor until the write commits (a missing one it
 *   inserts, and the write then owns the blob);
 * - a collection first locks the anchor, then, in a later statement of the
 *   same transaction (so with a snapshot taken after the lock was granted),
 *   deletes the chunks if no entity refers to the digest.
 *
 * Whichever locks the anchor first wins: a collection that waited sees the
 * writer's committed entity and keeps the blob; a writer that waited finds
 * the chunks deleted and inserts them afresh (it has the text in hand). A
 * single `DELETE ... WHERE NOT EXISTS` is not enough, since a DELETE that
 * waits on a row lock re-checks the row but not its subquery. SQLite (D1)
 * runs write transactions one at a time, where the order is trivially safe.
 * Neither side holds a second anchor while waiting for one, so they cannot
 * deadlock each other.
 */

/** The statements storing code: the anchor first (see above), then the other chunks if missing. */
function codeInserts(code: CodeBlob): SqlStatement[] {
  const id = `code:${code.digest}`;
  return chunks(code.text).map((chunk, seq) =>
    sql(
      `INSERT INTO blobs (id, seq, chunk) VALUES (?, ?, ?) ON CONFLICT (id, seq) DO ${seq === 0 ? "UPDATE SET seq = excluded.seq" : "NOTHING"}`,
      id,
      seq,
      chunk,
    ),
  );
}

/** The statements collecting code no entity refers to any more, in one transaction (see above). */
function codeCollection(digest: string): SqlStatement[] {
  const id = `code:${digest}`;
  return [
    sql("UPDATE blobs SET seq = seq WHERE id = ? AND seq = 0", id),
    sql("DELETE FROM blobs WHERE id = ? AND NOT EXISTS (SELECT 1 FROM entities WHERE code_digest = ?)", id, digest),
  ];
}

function toEntity(row: EntityRow): StoredEntity {
  return {
    collection: row.collection,
    ref: { namespace: row.namespace, name: row.name, ...(row.package ? { packageName: row.package } : {}) },
    doc: JSON.parse(row.doc) as AnyEntityDoc,
    ...(row.code_digest ? { codeDigest: row.code_digest } : {}),
    rev: Number(row.rev),
  } as StoredEntity;
}

function entityValues(entity: EntityDraft): unknown[] {
  const { ref, doc } = entity;
  return [
    ref.namespace,
    ref.packageName ?? "",
    ref.name,
    entity.collection,
    doc.version,
    doc.publish ? 1 : 0,
    doc.updated,
    JSON.stringify(doc),
    entity.codeDigest ?? null,
  ];
}

/** Where an activation's path (`ns/pkg/name`) puts it for the name filter. */
function activationPackage(record: ActivationRecord): string {
  const path = record.annotations.find((kv) => kv.key === "path")?.value;
  const parts = typeof path === "string" ? path.split("/") : [];
  return parts.length === 3 ? parts[1] : "";
}

const ACTIVATIONS_PER_BATCH = 48;
/** Rows of one multi-row insert: six parameters each, under D1's 100 bound parameters a statement. */
const ACTIVATION_ROWS_PER_INSERT = 16;
/** Characters of records' JSON in one multi-row insert at most (a larger record goes in one of its own). */
const ACTIVATION_CHARS_PER_INSERT = 1_000_000;

/** The statements recording one activation (`json`: its record serialized); the last one inserts the row (and reports changes). */
function activationInserts(record: ActivationRecord, json = JSON.stringify(record)): SqlStatement[] {
  const chunked = json.length > CHUNK_CHARS;
  const insert = sql(
    `INSERT INTO activations (activation_id, namespace, name, package, start_ms, doc)
     VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (activation_id) DO NOTHING`,
    ...activationRow(record, chunked ? null : json),
  );
  return [...(chunked ? blobInserts(`activation:${record.activationId}`, json) : []), insert];
}

/** The row values of one activation (`json` null when its record is chunked into blobs). */
function activationRow(record: ActivationRecord, json: string | null): unknown[] {
  return [record.activationId, record.namespace, record.name, activationPackage(record), record.start, json];
}

/**
 * One INSERT of several activations, answering the ids it stored: a record
 * whose id is there already stores nothing (ON CONFLICT DO NOTHING).
 */
function activationsInsert(rows: unknown[][]): SqlStatement {
  return {
    sql: `INSERT INTO activations (activation_id, namespace, name, package, start_ms, doc)
     VALUES ${rows.map(() => "(?, ?, ?, ?, ?, ?)").join(", ")} ON CONFLICT (activation_id) DO NOTHING RETURNING activation_id`,
    params: rows.flat(),
  };
}

/** Journals a message, or re-stamps its entry with this run and time and counts one more attempt. */
function journalInsert(entry: JournalDraft): SqlStatement {
  return sql(
    `INSERT INTO dispatch_journal (activation_id, namespace, message, boot, dispatched_at, attempts) VALUES (?, ?, ?, ?, ?, 1)
     ON CONFLICT (activation_id) DO UPDATE SET message = excluded.message, boot = excluded.boot,
       dispatched_at = excluded.dispatched_at, attempts = dispatch_journal.attempts + 1`,
    entry.activationId,
    entry.namespace,
    JSON.stringify(entry.message),
    entry.boot,
    entry.at,
  );
}

function activationWhere(namespace: string, filter: ActivationFilter): SqlStatement {
  const clauses = ["namespace = ?"];
  const params: unknown[] = [namespace];
  if (filter.name !== undefined) {
    clauses.push("name = ?");
    params.push(filter.name);
  }
  if (filter.packageName !== undefined) {
    clauses.push("package = ?");
    params.push(filter.packageName);
  }
  if (filter.since !== undefined) {
    clauses.push("start_ms >= ?");
    params.push(filter.since);
  }
  if (filter.upto !== undefined) {
    clauses.push("start_ms <= ?");
    params.push(filter.upto);
  }
  return { sql: clauses.join(" AND "), params };
}

export class SqlStore implements Store {
  constructor(private readonly db: SqlDatabase) {}

  private async subjectWhere(condition: string, value: string): Promise<SubjectRecord | undefined> {
    const rows = await this.db.all<{ uuid: string; key_hash: string; namespace: string; subject: string }>(
      `SELECT uuid, key_hash, namespace, subject FROM subjects WHERE ${condition} ORDER BY uuid LIMIT 1`,
      [value],
    );
    const row = rows[0];
    return row && { uuid: row.uuid, keyHash: row.key_hash, namespace: row.namespace, subject: row.subject };
  }

  findSubject(uuid: string): Promise<SubjectRecord | undefined> {
    return this.subjectWhere("uuid = ?", uuid);
  }

  async putSubject(subject: SubjectRecord): Promise<void> {
    await this.db.run(
      `INSERT INTO subjects (uuid, key_hash, namespace, subject) VALUES (?, ?, ?, ?)
       ON CONFLICT (uuid) DO UPDATE SET key_hash = excluded.key_hash, namespace = excluded.namespace, subject = excluded.subject`,
      [subject.uuid, subject.keyHash, subject.namespace, subject.subject],
    );
  }

  /** Revokes a key (wskadmin user delete); not a port method, since no request path removes subjects. */
  async deleteSubject(uuid: string): Promise<void> {
    await this.db.run("DELETE FROM subjects WHERE uuid = ?", [uuid]);
  }

  findNamespaceOwner(namespace: string): Promise<SubjectRecord | undefined> {
    return this.subjectWhere("namespace = ?", namespace);
  }

  async getNamespaceLimits(namespace: string): Promise<NamespaceLimits> {
    const rows = await this.db.all<{ limits: string }>("SELECT limits FROM namespace_limits WHERE namespace = ?", [namespace]);
    return rows[0] ? (JSON.parse(rows[0].limits) as NamespaceLimits) : {};
  }

  async putNamespaceLimits(namespace: string, limits: NamespaceLimits | undefined): Promise<void> {
    if (!limits) {
      await this.db.run("DELETE FROM namespace_limits WHERE namespace = ?", [namespace]);
      return;
    }
    await this.db.run(
      "INSERT INTO namespace_limits (namespace, limits) VALUES (?, ?) ON CONFLICT (namespace) DO UPDATE SET limits = excluded.limits",
      [namespace, JSON.stringify(limits)],
    );
  }

  async getEntity(ref: EntityRef): Promise<StoredEntity | undefined> {
    const rows = await this.db.all<EntityRow>(
      "SELECT namespace, package, name, collection, doc, code_digest, rev FROM entities WHERE namespace = ? AND package = ? AND name = ?",
      [ref.namespace, ref.packageName ?? "", ref.name],
    );
    return rows[0] && toEntity(rows[0]);
  }

  async getCode(digest: string): Promise<string | undefined> {
    const rows = await this.db.all<{ chunk: string }>("SELECT chunk FROM blobs WHERE id = ? ORDER BY seq", [
      `code:${digest}`,
    ]);
    return rows.length ? rows.map((row) => row.chunk).join("") : undefined;
  }

  async createEntity(entity: EntityDraft, code?: CodeBlob): Promise<boolean> {
    const insert = sql(
      `INSERT INTO entities (namespace, package, name, collection, version, publish, updated, doc, code_digest, rev)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1) ON CONFLICT (namespace, package, name) DO NOTHING`,
      ...entityValues(entity),
    );
    const results = await this.db.batch([...(code ? codeInserts(code) : []), insert]);
    return results[results.length - 1].changes > 0;
  }

  async updateEntity(entity: EntityDraft, expectedRev: number, code?: CodeBlob): Promise<boolean> {
    const { ref } = entity;
    // Only an action can let go of code. One that names its digest and brings
    // no code keeps the code it had (src/api/actions.ts): nothing to read first.
    const mayReleaseCode = entity.collection === "actions" && (code !== undefined || entity.codeDigest === undefined);
    const previous = mayReleaseCode ? await this.getEntity(ref) : undefined;
    const [namespace, pkg, name, collection, version, publish, updated, doc, digest] = entityValues(entity);
    const update = sql(
      `UPDATE entities SET collection = ?, version = ?, publish = ?, updated = ?, doc = ?, code_digest = ?, rev = rev + 1
       WHERE namespace = ? AND package = ? AND name = ? AND rev = ?`,
      collection, version, publish, updated, doc, digest, namespace, pkg, name, expectedRev,
    );
    const results = await this.db.batch([...(code ? codeInserts(code) : []), update]);
    const updatedRow = results[results.length - 1].changes > 0;
    // The update applied at expectedRev, so the row it replaced is the one read if that was at expectedRev too.
    const released = previous?.rev === expectedRev ? previous.codeDigest : undefined;
    if (updatedRow && released && released !== entity.codeDigest) await this.collectCode(released);
    return updatedRow;
  }

  async deleteEntity(ref: EntityRef, expectedRev: number): Promise<boolean> {
    const deleted = await this.db.all<{ code_digest: string | null }>(
      "DELETE FROM entities WHERE namespace = ? AND package = ? AND name = ? AND rev = ? RETURNING code_digest",
      [ref.namespace, ref.packageName ?? "", ref.name, expectedRev],
    );
    const released = deleted[0]?.code_digest;
    if (released) await this.collectCode(released);
    return deleted.length > 0;
  }

  /** Code is shared by digest; it goes when no entity refers to it any more. */
  private async collectCode(digest: string): Promise<void> {
    await this.db.batch(codeCollection(digest));
  }

  async listEntities<C extends Collection>(
    namespace: string,
    collection: C,
    page: ListPage,
    packageName?: string,
  ): Promise<StoredEntity<C>[]> {
    const byPackage = packageName === undefined ? "" : " AND package = ?";
    const rows = await this.db.all<EntityRow>(
      `SELECT namespace, package, name, collection, doc, code_digest, rev FROM entities
       WHERE namespace = ? AND collection = ?${byPackage} ORDER BY updated DESC, package, name LIMIT ? OFFSET ?`,
      [namespace, collection, ...(packageName === undefined ? [] : [packageName]), page.limit, page.skip],
    );
    // The query selects the collection already; the filter lets the type say so.
    return rows.map(toEntity).filter((entity) => isOfCollection(entity, collection));
  }

  async countEntities(namespace: string, collection: Collection, packageName?: string): Promise<number> {
    const byPackage = packageName === undefined ? "" : " AND package = ?";
    const rows = await this.db.all<{ n: number | string }>(
      `SELECT COUNT(*) AS n FROM entities WHERE namespace = ? AND collection = ?${byPackage}`,
      [namespace, collection, ...(packageName === undefined ? [] : [packageName])],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async listPublicPackages(namespace: string, page: ListPage): Promise<StoredEntity<"packages">[]> {
    const rows = await this.db.all<EntityRow>(
      `SELECT namespace, package, name, collection, doc, code_digest, rev FROM entities
       WHERE namespace = ? AND collection = 'packages' AND publish = 1 ORDER BY updated DESC, name LIMIT ? OFFSET ?`,
      [namespace, page.limit, page.skip],
    );
    return rows.map(toEntity).filter((entity) => isOfCollection(entity, "packages"));
  }

  async putActivation(record: ActivationRecord): Promise<boolean> {
    return (await this.putActivations([record]))[0]!;
  }

  async putActivations(records: ActivationRecord[]): Promise<boolean[]> {
    const stored: boolean[] = [];
    for (let at = 0; at < records.length; at += ACTIVATIONS_PER_BATCH) {
      stored.push(...(await this.putActivationBatch(records.slice(at, at + ACTIVATIONS_PER_BATCH))));
    }
    return stored;
  }

  /**
   * Records stored whole go in multi-row inserts, all sent in one call; a
   * record large enough to be chunked goes alone, with its chunks.
   */
  private async putActivationBatch(records: ActivationRecord[]): Promise<boolean[]> {
    const stored = records.map(() => false);
    /** Per insert: the indexes of its records, and its rows. */
    const inserts: { at: number[]; rows: unknown[][]; chars: number }[] = [];
    for (const [at, record] of records.entries()) {
      const json = JSON.stringify(record);
      if (json.length > CHUNK_CHARS) {
        const results = await this.db.batch(activationInserts(record, json));
        stored[at] = results[results.length - 1]!.changes > 0;
        continue;
      }
      let open = inserts.at(-1);
      if (!open || open.rows.length >= ACTIVATION_ROWS_PER_INSERT || open.chars + json.length > ACTIVATION_CHARS_PER_INSERT) {
        open = { at: [], rows: [], chars: 0 };
        inserts.push(open);
      }
      open.at.push(at);
      open.rows.push(activationRow(record, json));
      open.chars += json.length;
    }
    if (inserts.length === 0) return stored;
    const answers = await this.db.batchRows<{ activation_id: string }>(inserts.map((insert) => activationsInsert(insert.rows)));
    for (const [n, insert] of inserts.entries()) {
      // An id twice in one call is stored once: only its first record counts as stored.
      const storedNow = new Set(answers[n]!.map((row) => row.activation_id));
      for (const at of insert.at) stored[at] = storedNow.delete(records[at]!.activationId);
    }
    return stored;
  }

  async getActivation(namespace: string, activationId: string): Promise<ActivationRecord | undefined> {
    const rows = await this.db.all<ActivationRow>(
      "SELECT activation_id, doc FROM activations WHERE namespace = ? AND activation_id = ?",
      [namespace, activationId],
    );
    return rows[0] && this.readActivation(rows[0]);
  }

  private async readActivation(row: ActivationRow): Promise<ActivationRecord> {
    if (row.doc !== null) return JSON.parse(row.doc) as ActivationRecord;
    const parts = await this.db.all<{ chunk: string }>("SELECT chunk FROM blobs WHERE id = ? ORDER BY seq", [
      `activation:${row.activation_id}`,
    ]);
    return JSON.parse(parts.map((part) => part.chunk).join("")) as ActivationRecord;
  }

  async listActivations(namespace: string, filter: ActivationFilter, page: ListPage): Promise<ActivationRecord[]> {
    const where = activationWhere(namespace, filter);
    const rows = await this.db.all<ActivationRow>(
      `SELECT activation_id, doc FROM activations WHERE ${where.sql} ORDER BY start_ms DESC, activation_id LIMIT ? OFFSET ?`,
      [...where.params, page.limit, page.skip],
    );
    return Promise.all(rows.map((row) => this.readActivation(row)));
  }

  async countActivations(namespace: string, filter: ActivationFilter): Promise<number> {
    const where = activationWhere(namespace, filter);
    const rows = await this.db.all<{ n: number | string }>(
      `SELECT COUNT(*) AS n FROM activations WHERE ${where.sql}`,
      where.params,
    );
    return Number(rows[0]?.n ?? 0);
  }

  async deleteActivationsBefore(before: number): Promise<number> {
    await this.db.run(
      `DELETE FROM blobs WHERE id IN (SELECT 'activation:' || activation_id FROM activations WHERE start_ms < ? AND doc IS NULL)`,
      [before],
    );
    const result = await this.db.run("DELETE FROM activations WHERE start_ms < ?", [before]);
    return result.changes;
  }

  async journalDispatch(entry: JournalDraft): Promise<void> {
    const { sql, params } = journalInsert(entry);
    await this.db.run(sql, params);
  }

  async journalDispatches(entries: JournalDraft[]): Promise<void> {
    if (entries.length > 0) await this.db.batch(entries.map(journalInsert));
  }

  async journalWithRecord(entries: JournalDraft[], record: ActivationRecord): Promise<boolean> {
    const results = await this.db.batch([...entries.map(journalInsert), ...activationInserts(record)]);
    return results[results.length - 1].changes > 0;
  }

  async listJournal(query: { otherThanBoot: string; dispatchedBefore: number; limit: number }): Promise<JournalEntry[]> {
    const rows = await this.db.all<{
      activation_id: string;
      namespace: string;
      message: string;
      boot: string;
      dispatched_at: number | string;
      attempts: number | string;
    }>(
      `SELECT activation_id, namespace, message, boot, dispatched_at, attempts FROM dispatch_journal j
       WHERE (boot <> ? OR dispatched_at < ?)
         AND NOT EXISTS (SELECT 1 FROM activations a WHERE a.activation_id = j.activation_id)
       ORDER BY dispatched_at, activation_id LIMIT ?`,
      [query.otherThanBoot, query.dispatchedBefore, query.limit],
    );
    return rows.map((row) => ({
      activationId: row.activation_id,
      namespace: row.namespace,
      message: JSON.parse(row.message) as DispatchMessage,
      boot: row.boot,
      dispatchedAt: Number(row.dispatched_at),
      attempts: Number(row.attempts),
    }));
  }

  async pruneJournal(): Promise<number> {
    const result = await this.db.run(
      `DELETE FROM dispatch_journal
       WHERE EXISTS (SELECT 1 FROM activations a WHERE a.activation_id = dispatch_journal.activation_id)`,
    );
    return result.changes;
  }

  async deleteJournalEntry(activationId: string): Promise<void> {
    await this.db.run("DELETE FROM dispatch_journal WHERE activation_id = ?", [activationId]);
  }

  async listApis(tenant: string): Promise<StoredApi[]> {
    const rows = await this.db.all<{ api_key: string; doc: string; rev: number | string }>(
      "SELECT api_key, doc, rev FROM apis WHERE tenant = ? ORDER BY created_ms, api_key",
      [tenant],
    );
    return rows.map((row) => ({ tenant, key: row.api_key, doc: JSON.parse(row.doc) as ApiDocument, rev: Number(row.rev) }));
  }

  async saveApi(api: Omit<StoredApi, "rev">, expectedRev: number | undefined): Promise<boolean> {
    const doc = JSON.stringify(api.doc);
    const result =
      expectedRev === undefined
        ? await this.db.run(
            "INSERT INTO apis (tenant, api_key, doc, rev, created_ms) VALUES (?, ?, ?, 1, ?) ON CONFLICT (tenant, api_key) DO NOTHING",
            [api.tenant, api.key, doc, Date.now()],
          )
        : await this.db.run("UPDATE apis SET doc = ?, rev = rev + 1 WHERE tenant = ? AND api_key = ? AND rev = ?", [
            doc,
            api.tenant,
            api.key,
            expectedRev,
          ]);
    return result.changes === 1;
  }

  async deleteApi(tenant: string, key: string, expectedRev: number): Promise<boolean> {
    const result = await this.db.run("DELETE FROM apis WHERE tenant = ? AND api_key = ? AND rev = ?", [tenant, key, expectedRev]);
    return result.changes === 1;
  }
}
