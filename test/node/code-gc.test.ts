// Code shared by digest under PostgreSQL's READ COMMITTED: a write that
// drops the last reference to a blob collects it, while another write with
// the same code keeps it. The race is forced: one write is held inside its
// transaction at a chosen statement while the other runs beside it.
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresSql } from "../../src/node/postgres.js";
import { SqlStore } from "../../src/store/sql-store.js";
import { ref, storedAction } from "../support/entities.js";
import { migratedStore, testServices, uniqueSuffix } from "./services.js";
import { watchedPool } from "./watched-pool.js";

const services = await testServices();

interface Hold {
  pool: pg.Pool;
  /** Resolves once a statement matching the hold's pattern is about to run. */
  reached: Promise<void>;
  release(): void;
}

/** The pool with every statement matching `pattern` held until `release`, inside transactions too. */
function holdingPool(pool: pg.Pool, pattern: RegExp): Hold {
  let reached!: () => void;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  return {
    pool: watchedPool(pool, async (text) => {
      if (!pattern.test(text)) return;
      reached();
      await released;
    }),
    reached: new Promise<void>((resolve) => (reached = resolve)),
    release: () => release(),
  };
}

describe.skipIf(!services)("code shared by digest on PostgreSQL", () => {
  let pool: pg.Pool;
  let store: SqlStore;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ pool, store, close } = await migratedStore(services!));
  });

  afterAll(async () => {
    await close?.();
  });

  /** Waits until `work` settles or some session of this database waits for a row lock. */
  async function settledOrBlocked(work: Promise<unknown>): Promise<void> {
    let settled = false;
    void work.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (let tries = 0; tries < 500 && !settled; tries++) {
      const { rows } = await pool.query(
        "SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
      );
      if (rows[0].waiting > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /**
   * Runs `held` on a store whose statements matching `heldAt` wait, and once
   * one waits, runs `other` beside it until it finishes or waits for a lock;
   * then lets `held` go on. Both writes must succeed.
   */
  async function race(held: (holding: SqlStore) => Promise<boolean>, heldAt: RegExp, other: () => Promise<boolean>): Promise<void> {
    const hold = holdingPool(pool, heldAt);
    const first = held(new SqlStore(new PostgresSql(hold.pool)));
    await hold.reached;
    const second = other();
    await settledOrBlocked(second);
    hold.release();
    expect(await Promise.all([first, second])).toEqual([true, true]);
  }

  /** Where a write storing code has stored it and not yet its entity. */
  const ENTITY_WRITE = /^\s*(INSERT INTO|UPDATE) entities/;
  /** Where a collection has locked the blob and not yet deleted it. */
  const BLOB_DELETE = /^\s*DELETE FROM blobs/;

  it("keeps the blob a concurrent create reuses while the delete of its last other user collects it", async () => {
    const ns = `gc${uniqueSuffix()}`;
    const text = `// shared by ${ns}`;
    const last = await storedAction(ref(`${ns}/last`), { code: text });
    const next = await storedAction(ref(`${ns}/next`), { code: text });
    expect(await store.createEntity(last.entity, last.code)).toBe(true);

    await race((holding) => holding.createEntity(next.entity, next.code), ENTITY_WRITE, () => store.deleteEntity(last.entity.ref, 1));
    expect((await store.getEntity(next.entity.ref))?.codeDigest).toBe(last.code.digest);
    expect(await store.getCode(last.code.digest)).toBe(text);
  });

  it("keeps the blob a concurrent update reuses while the update of its last other user collects it", async () => {
    const ns = `gc${uniqueSuffix()}`;
    const text = `// shared by ${ns}`;
    const last = await storedAction(ref(`${ns}/last`), { code: text });
    const other = await storedAction(ref(`${ns}/other`), { code: `// other of ${ns}` });
    expect(await store.createEntity(last.entity, last.code)).toBe(true);
    expect(await store.createEntity(other.entity, other.code)).toBe(true);
    const replacement = await storedAction(ref(`${ns}/last`), { code: `// replacement in ${ns}` });
    const reusing = await storedAction(ref(`${ns}/other`), { code: text });

    await race(
      (holding) => holding.updateEntity(reusing.entity, 1, reusing.code),
      ENTITY_WRITE,
      () => store.updateEntity(replacement.entity, 1, replacement.code),
    );
    expect((await store.getEntity(reusing.entity.ref))?.codeDigest).toBe(last.code.digest);
    expect(await store.getCode(last.code.digest)).toBe(text);
    // The code the update replaced had no other user: it is gone.
    expect(await store.getCode(other.code.digest)).toBeUndefined();
  });

  it("stores the code afresh when the collection of its last user got to the blob first", async () => {
    const ns = `gc${uniqueSuffix()}`;
    // More than one chunk: every chunk must come back, not only the first.
    const text = `// shared by ${ns}\n${"x".repeat(1_100_000)}`;
    const last = await storedAction(ref(`${ns}/last`), { code: text });
    const next = await storedAction(ref(`${ns}/next`), { code: text });
    expect(await store.createEntity(last.entity, last.code)).toBe(true);

    await race((holding) => holding.deleteEntity(last.entity.ref, 1), BLOB_DELETE, () => store.createEntity(next.entity, next.code));
    expect((await store.getEntity(next.entity.ref))?.codeDigest).toBe(last.code.digest);
    expect(await store.getCode(last.code.digest)).toBe(text);
  });
});
