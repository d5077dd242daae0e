// The PostgreSQL adapter under the portable SqlStore, against a real server.
import { readdirSync } from "node:fs";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildActivation, resultResponse } from "../../src/core/activation.js";
import { applyMigrations } from "../../src/node/migrate.js";
import { createPool, numberPlaceholders, PostgresSql } from "../../src/node/postgres.js";
import { SqlStore } from "../../src/store/sql-store.js";
import { spawnSync } from "node:child_process";
import { hashAuthKey, parseAuthKey } from "../../src/core/auth.js";
import { WhiskError } from "../../src/core/errors.js";
import { RateGate } from "../../src/core/throttle.js";
import { postgresAuthority } from "../../src/node/postgres-throttle.js";
import { createTestDatabase, testServices } from "./services.js";
import { watchedPool } from "./watched-pool.js";

describe("numberPlaceholders", () => {
  it("numbers ? in order and leaves quoted text alone", () => {
    expect(numberPlaceholders("SELECT '?' || \"a?\", x FROM t WHERE a = ? AND b = 'it''s ?' AND c = ?")).toBe(
      "SELECT '?' || \"a?\", x FROM t WHERE a = $1 AND b = 'it''s ?' AND c = $2",
    );
  });
});

const services = await testServices();

describe.skipIf(!services)("PostgreSQL store", () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: pg.Pool;
  let store: SqlStore;

  beforeAll(async () => {
    database = await createTestDatabase(services!);
    pool = createPool(database.url);
    store = new SqlStore(new PostgresSql(pool));
  });

  afterAll(async () => {
    await pool?.end();
    await database?.drop();
  });

  it("applies migrations/ once even when two controllers start together", async () => {
    const other = createPool(database.url);
    try {
      const runs = await Promise.all([applyMigrations(pool), applyMigrations(other)]);
      const expected = [
        ...readdirSync(new URL("../../migrations/", import.meta.url)),
        ...readdirSync(new URL("../../src/node/migrations/", import.meta.url)).map((file) => `node/${file}`),
      ];
      expect(runs.flat().sort()).toEqual(expected.sort());
      expect(await applyMigrations(other)).toEqual([]);
      const { rows } = await pool.query("SELECT name FROM edgewhisk_migrations ORDER BY name");
      expect(rows.map((row) => row.name)).toEqual(expected.sort());
    } finally {
      await other.end();
    }
  });

  it("stores entities with chunked code and counts them as numbers", async () => {
    const code = "x".repeat(1_200_000);
    const doc = {
      namespace: "guest",
      name: "big",
      version: "0.0.1",
      publish: false,
      updated: 1_790_000_000_000,
      annotations: [],
      parameters: [],
      limits: { timeout: 60_000, memory: 256, logs: 10, concurrency: 1 },
      exec: { kind: "nodejs:20", binary: false },
    };
    const entity = { collection: "actions" as const, ref: { namespace: "guest", name: "big" }, doc: doc as never, codeDigest: "d1" };
    expect(await store.createEntity(entity, { digest: "d1", text: code })).toBe(true);
    expect(await store.createEntity(entity, { digest: "d1", text: code })).toBe(false);
    expect(await store.getCode("d1")).toBe(code);
    expect(await store.countEntities("guest", "actions")).toBe(1);
    const listed = await store.listEntities("guest", "actions", { limit: 10, skip: 0 });
    expect(listed.map((e) => e.doc.updated)).toEqual([1_790_000_000_000]);
  });

  it("records an activation once by id and reads start times back as numbers", async () => {
    const record = buildActivation({
      activationId: "a".repeat(32),
      namespace: "guest",
      subject: "guest",
      name: "hello",
      version: "0.0.1",
      path: "guest/hello",
      start: 1_790_000_000_123,
      end: 1_790_000_000_456,
      response: resultResponse({ ok: true }),
      logs: [],
    });
    expect(await store.putActivation(record)).toBe(true);
    expect(await store.putActivation({ ...record, logs: ["again"] })).toBe(false);
    expect(await store.getActivation("guest", record.activationId)).toEqual(record);
    const { rows } = await pool.query("SELECT start_ms FROM activations WHERE activation_id = $1", [record.activationId]);
    expect(rows[0].start_ms).toBe(1_790_000_000_123);
    expect(await store.countActivations("guest", { since: 1_790_000_000_000 })).toBe(1);
  });

  it("runs a batch in one transaction: a failing statement undoes the others", async () => {
    const sql = new PostgresSql(pool);
    await expect(
      sql.batch([
        { sql: "INSERT INTO blobs (id, seq, chunk) VALUES (?, ?, ?)", params: ["tx", 0, "one"] },
        { sql: "INSERT INTO blobs (id, seq, chunk) VALUES (?, ?, ?)", params: ["tx", 0, "duplicate key"] },
      ]),
    ).rejects.toThrow(/duplicate key/);
    expect(await sql.all("SELECT chunk FROM blobs WHERE id = ?", ["tx"])).toEqual([]);
  });

  it("sends a batch of one statement alone, without BEGIN and COMMIT", async () => {
    const sent: string[] = [];
    const sql = new PostgresSql(watchedPool(pool, (text) => void sent.push(text)));
    expect(await sql.batch([{ sql: "INSERT INTO blobs (id, seq, chunk) VALUES (?, ?, ?)", params: ["alone", 0, "one"] }])).toEqual([
      { changes: 1 },
    ]);
    expect(sent).toEqual(["INSERT INTO blobs (id, seq, chunk) VALUES ($1, $2, $3)"]);
  });

  it("hands out no more than a namespace's limit across controller replicas, and forgets past minutes", async () => {
    await applyMigrations(pool);
    await store.putNamespaceLimits("busy", { invocationsPerMinute: 40 });
    const replica = createPool(database.url);
    try {
      let now = Date.UTC(2026, 10, 25, 10, 0, 1);
      const gates = [pool, replica].map(
        (p) => new RateGate({ authority: postgresAuthority(p), limitsOf: (ns) => store.getNamespaceLimits(ns), now: () => now }),
      );
      const outcomes = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          gates[i % 2]!.admit("busy", "invoke").then(
            () => "ok",
            (err: WhiskError) => `${err.status} ${err.message}`,
          ),
        ),
      );
      const admitted = outcomes.filter((o) => o === "ok").length;
      expect(admitted).toBeLessThanOrEqual(40);
      expect(outcomes.filter((o) => o !== "ok").every((o) => /^429 Too many requests in the last minute \(count: \d+, allowed: 40\)\.$/.test(o))).toBe(true);
      // Tokens a replica took but did not need in the burst are spent by its next requests: the minute admits exactly 40.
      let later = 0;
      for (let i = 0; i < 40; i++) {
        await gates[i % 2]!.admit("busy", "invoke").then(() => later++, () => undefined);
      }
      expect(admitted + later).toBe(40);
      const { rows } = await pool.query("SELECT issued FROM throttle_counts WHERE namespace = 'busy' AND kind = 'invoke'");
      expect(rows).toEqual([{ issued: 40 }]);

      now += 60_000;
      await gates[0]!.admit("busy", "invoke");
      const after = await pool.query("SELECT minute, issued FROM throttle_counts WHERE namespace = 'busy'");
      expect(after.rows).toEqual([{ minute: Math.floor(now / 60_000), issued: 2 }]);
    } finally {
      await replica.end();
    }
  });

  it("is administered by wskadmin --database-url: keys stored hashed, limits set, read and deleted", async () => {
    await applyMigrations(pool);
    const wskadmin = (...args: string[]) => {
      const run = spawnSync(process.execPath, ["--import", "tsx", "scripts/wskadmin.ts", ...args, "--database-url", database.url], { encoding: "utf8" });
      expect(run.status, run.stderr).toBe(0);
      return run.stdout.trim();
    };
    const key = wskadmin("user", "create", "alice");
    const [uuid] = key.split(":");
    const subject = await store.findSubject(uuid!);
    expect(subject).toMatchObject({ namespace: "alice", subject: "alice" });
    expect(subject!.keyHash).toBe(await hashAuthKey(parseAuthKey(key)!));
    expect(subject!.keyHash).not.toContain(key.split(":")[1]);

    expect(wskadmin("limits", "set", "alice", "--invocationsPerMinute", "7")).toBe("Limits successfully set");
    wskadmin("limits", "set", "alice", "--firesPerMinute", "3");
    expect(await store.getNamespaceLimits("alice")).toEqual({ invocationsPerMinute: 7, firesPerMinute: 3 });
    expect(wskadmin("limits", "get", "alice")).toBe("invocationsPerMinute = 7\nfiresPerMinute = 3");
    wskadmin("limits", "delete", "alice");
    expect(await store.getNamespaceLimits("alice")).toEqual({});
    wskadmin("user", "delete", uuid!);
    expect(await store.findSubject(uuid!)).toBeUndefined();
  });
});
