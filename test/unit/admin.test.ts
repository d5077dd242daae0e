import { describe, expect, it } from "vitest";
import { hashAuthKey, parseAuthKey } from "../../src/core/auth.js";
import { AdminUsageError, newAuthKey, runAdminCommand, type AdminCommand } from "../../src/store/admin.js";
import { memoryStore } from "../support/memory-sql.js";

const user = (verb: string, subject?: string, auth?: string): AdminCommand => ({ noun: "user", verb, subject, auth, limits: {} });
const limits = (verb: string, namespace?: string, given: AdminCommand["limits"] = {}): AdminCommand => ({
  noun: "limits",
  verb,
  subject: namespace,
  limits: given,
});

describe("wskadmin user", () => {
  it("creates a subject owning its namespace, stores only the key's hash and prints the key", async () => {
    const store = memoryStore().store;
    expect(await runAdminCommand(store, user("create", "alice"), () => "7f1c:secret")).toEqual(["7f1c:secret"]);
    expect(await store.findSubject("7f1c")).toEqual({
      uuid: "7f1c",
      keyHash: await hashAuthKey({ uuid: "7f1c", key: "secret" }),
      namespace: "alice",
      subject: "alice",
    });
  });

  it("takes the key given with --auth, replacing the subject of that uuid", async () => {
    const store = memoryStore().store;
    await runAdminCommand(store, user("create", "alice", "u1:one"));
    expect(await runAdminCommand(store, user("create", "bob", "u1:two"))).toEqual(["u1:two"]);
    expect(await store.findSubject("u1")).toMatchObject({ namespace: "bob", keyHash: await hashAuthKey({ uuid: "u1", key: "two" }) });
  });

  it("deletes a subject by uuid", async () => {
    const store = memoryStore().store;
    await runAdminCommand(store, user("create", "alice", "u1:one"));
    expect(await runAdminCommand(store, user("delete", "u1"))).toEqual(["deleted u1"]);
    expect(await store.findSubject("u1")).toBeUndefined();
  });

  it.each([
    [user("create", "bad/name"), "a valid namespace name is required"],
    [user("create", "trailing "), "a valid namespace name is required"],
    [user("create"), "a valid namespace name is required"],
    [user("create", "alice", "no-colon"), "--auth must have the form uuid:key"],
    [user("create", "alice", ":key"), "--auth must have the form uuid:key"],
    [user("delete"), "the uuid of the key to delete is required"],
    [user("rename", "alice"), "unknown command: rename"],
    [{ noun: "users", verb: "create", subject: "alice", limits: {} }, ""],
  ])("refuses %j: %s", async (command, message) => {
    const store = memoryStore().store;
    const refused = runAdminCommand(store, command);
    await expect(refused).rejects.toBeInstanceOf(AdminUsageError);
    await expect(refused).rejects.toHaveProperty("message", message);
    expect(await store.findNamespaceOwner("alice")).toBeUndefined();
  });
});

describe("wskadmin limits", () => {
  it("sets limits over those stored, prints them in stored order and deletes them", async () => {
    const store = memoryStore().store;
    expect(await runAdminCommand(store, limits("get", "alice"))).toEqual(["No limits found, default system limits apply"]);
    expect(await runAdminCommand(store, limits("set", "alice", { concurrentInvocations: "5", invocationsPerMinute: "7" }))).toEqual([
      "Limits successfully set",
    ]);
    await runAdminCommand(store, limits("set", "alice", { firesPerMinute: "0", invocationsPerMinute: "8" }));
    expect(await store.getNamespaceLimits("alice")).toEqual({ invocationsPerMinute: 8, concurrentInvocations: 5, firesPerMinute: 0 });
    expect(await runAdminCommand(store, limits("get", "alice"))).toEqual([
      "invocationsPerMinute = 8",
      "concurrentInvocations = 5",
      "firesPerMinute = 0",
    ]);
    expect(await runAdminCommand(store, limits("delete", "alice"))).toEqual(["Limits deleted"]);
    expect(await store.getNamespaceLimits("alice")).toEqual({});
  });

  it.each([
    [limits("get"), "a namespace is required"],
    [limits("set", "alice"), "give at least one of --invocationsPerMinute, --firesPerMinute, --concurrentInvocations"],
    [limits("set", "alice", { firesPerMinute: "1.5" }), "--firesPerMinute must be a whole number of 0 or more"],
    [limits("set", "alice", { concurrentInvocations: "-1" }), "--concurrentInvocations must be a whole number of 0 or more"],
    [limits("set", "alice", { invocationsPerMinute: "many" }), "--invocationsPerMinute must be a whole number of 0 or more"],
    [limits("reset", "alice"), "unknown command: limits reset"],
  ])("refuses %j: %s", async (command, message) => {
    const store = memoryStore().store;
    await expect(runAdminCommand(store, command)).rejects.toThrow(new AdminUsageError(message));
    expect(await store.getNamespaceLimits("alice")).toEqual({});
  });
});

describe("newAuthKey", () => {
  it("makes a uuid and a 64-character base64url key, different every time", () => {
    const key = newAuthKey();
    const credentials = parseAuthKey(key)!;
    expect(credentials.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(credentials.key).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(newAuthKey()).not.toBe(key);
  });
});
