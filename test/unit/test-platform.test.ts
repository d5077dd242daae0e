// The fast tier's own parts (test/support): the in-memory database keeps the
// adapters' promises, and the assembled Platform serves the real controller API.
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app.js";
import { seedSubject } from "../../src/store/seed.js";
import { MemorySql } from "../support/memory-sql.js";
import { createTestPlatform } from "../support/platform.js";

describe("in-memory SqlDatabase", () => {
  it("applies migrations/ and runs a batch in one transaction: a failing statement undoes the others", async () => {
    const sql = new MemorySql();
    const tables = await sql.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
    expect(tables.map((t) => t.name)).toEqual(["activations", "apis", "blobs", "dispatch_journal", "entities", "namespace_limits", "subjects"]);
    await expect(
      sql.batch([
        { sql: "INSERT INTO blobs (id, seq, chunk) VALUES (?, ?, ?)", params: ["tx", 0, "one"] },
        { sql: "INSERT INTO blobs (id, seq, chunk) VALUES (?, ?, ?)", params: ["tx", 0, "duplicate key"] },
      ]),
    ).rejects.toThrow(/UNIQUE/);
    expect(await sql.all("SELECT chunk FROM blobs WHERE id = ?", ["tx"])).toEqual([]);
    expect(await sql.batch([{ sql: "INSERT INTO blobs (id, seq, chunk) VALUES (?, ?, ?)", params: ["tx", 0, "one"] }])).toEqual([{ changes: 1 }]);
  });
});

describe("test platform", () => {
  const KEY = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP";
  const auth = { authorization: `Basic ${btoa(KEY)}`, "content-type": "application/json" };

  it("serves the controller API: an action created and invoked blocking, a non-blocking invoke queued and run", async () => {
    const t = createTestPlatform();
    await seedSubject(t.store, KEY, "guest");
    const app = createApp(() => t.platform);
    t.isolates.define("/guest/greet", (params) => ({ greeting: `Hello, ${params.name}!` }));

    const put = await app.request("/api/v1/namespaces/_/actions/greet", {
      method: "PUT",
      headers: auth,
      body: JSON.stringify({ exec: { kind: "nodejs:20", code: "function main(p) { return p; }" } }),
    });
    expect(put.status).toBe(200);

    const blocking = await app.request("/api/v1/namespaces/_/actions/greet?blocking=true&result=true", {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ name: "Ada" }),
    });
    expect(blocking.status).toBe(200);
    expect(await blocking.json()).toEqual({ greeting: "Hello, Ada!" });

    const queued = await app.request("/api/v1/namespaces/_/actions/greet", { method: "POST", headers: auth, body: JSON.stringify({ name: "Bo" }) });
    expect(queued.status).toBe(202);
    const { activationId } = (await queued.json()) as { activationId: string };
    expect(t.queue.messages.map((m) => m.type === "invoke" && m.request.activationId)).toEqual([activationId]);
    expect(await t.drain()).toEqual(["done"]);
    await Promise.all(t.deferred);
    const record = await app.request(`/api/v1/namespaces/_/activations/${activationId}`, { headers: auth });
    expect(((await record.json()) as { response: { result: unknown } }).response.result).toEqual({ greeting: "Hello, Bo!" });
  });
});
