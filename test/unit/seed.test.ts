import { describe, expect, it } from "vitest";
import { hashAuthKey, parseAuthKey } from "../../src/core/auth.js";
import { seedPlatform } from "../../src/store/seed.js";
import { memoryStore } from "../support/memory-sql.js";

const GUEST = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:guestkey";
const SYSTEM = "789c46b1-71f6-4ed5-8c54-816aa4f8c502:systemkey";

describe("seedPlatform", () => {
  it("stores the configured subjects by key hash and installs the /whisk.system catalog", async () => {
    const store = memoryStore().store;
    await seedPlatform(store, { guestAuth: GUEST, whiskSystemAuth: SYSTEM });
    const guest = await store.findSubject(parseAuthKey(GUEST)!.uuid);
    expect(guest).toEqual({ uuid: parseAuthKey(GUEST)!.uuid, keyHash: await hashAuthKey(parseAuthKey(GUEST)!), namespace: "guest", subject: "guest" });
    expect(await store.findNamespaceOwner("whisk.system")).toMatchObject({ uuid: parseAuthKey(SYSTEM)!.uuid, subject: "whisk.system" });
    const packages = await store.listEntities("whisk.system", "packages", { limit: 100, skip: 0 });
    expect(packages.map((p) => p.ref.name).sort()).toEqual(["alarms", "samples", "utils"]);
  });

  it("seeds only the catalog when no subject is configured, and a second run changes nothing", async () => {
    const store = memoryStore().store;
    await seedPlatform(store, {});
    expect(await store.findNamespaceOwner("guest")).toBeUndefined();
    const before = await store.listEntities("whisk.system", "actions", { limit: 1000, skip: 0 });
    expect(before.length).toBeGreaterThan(0);
    await seedPlatform(store, {});
    const after = await store.listEntities("whisk.system", "actions", { limit: 1000, skip: 0 });
    expect(after.map((a) => [a.ref.name, a.rev])).toEqual(before.map((a) => [a.ref.name, a.rev]));
  });

  it("refuses a configured key that is not uuid:key", async () => {
    await expect(seedPlatform(memoryStore().store, { guestAuth: "no-colon" })).rejects.toThrow("the key for namespace guest must have the form uuid:key");
  });
});
