// What every Store must do (src/ports/store.ts), as one set of cases each database
// runs: D1 inside workerd (test/worker), PostgreSQL (test/node) and SQLite
// in memory (test/unit). The cases share whatever database they are given,
// so each works in a namespace (and with ids) of its own.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ActivationRecord } from "../../src/core/activation.js";
import type { DispatchMessage } from "../../src/ports/dispatcher.js";
import type { JournalEntry, Store } from "../../src/ports/store.js";
import { activationRecord, packageDoc, ref, storedAction, triggerDoc } from "./entities.js";

export interface StoreUnderTest {
  store: Store;
  /** Releases the database (pools, temporary databases). */
  close?: () => Promise<void>;
}

let counter = 0;
/** A name no other case (nor another run on the same database) uses. */
const unique = (prefix: string) => `${prefix}${Date.now().toString(36)}${(counter++).toString(36)}${Math.random().toString(36).slice(2, 6)}`;
/** 32 hex digits, unique like an activation id. */
const hexId = () => crypto.randomUUID().replaceAll("-", "");

const page = (limit: number, skip = 0) => ({ limit, skip });

export function storeContract(name: string, open: () => Promise<StoreUnderTest>, options: { skip?: boolean } = {}): void {
  describe.skipIf(options.skip ?? false)(`Store contract: ${name}`, () => {
    let subject: StoreUnderTest;
    let store: Store;

    beforeAll(async () => {
      subject = await open();
      store = subject.store;
    });
    afterAll(async () => {
      await subject?.close?.();
    });

    describe("subjects", () => {
      it("finds a subject by uuid and its namespace's owner, and replaces one put again", async () => {
        const namespace = unique("ns");
        const uuid = crypto.randomUUID();
        expect(await store.findSubject(uuid)).toBeUndefined();
        await store.putSubject({ uuid, keyHash: "h1", namespace, subject: namespace });
        expect(await store.findSubject(uuid)).toEqual({ uuid, keyHash: "h1", namespace, subject: namespace });
        expect(await store.findNamespaceOwner(namespace)).toEqual({ uuid, keyHash: "h1", namespace, subject: namespace });

        await store.putSubject({ uuid, keyHash: "h2", namespace, subject: "renamed" });
        expect(await store.findSubject(uuid)).toEqual({ uuid, keyHash: "h2", namespace, subject: "renamed" });
        expect(await store.findNamespaceOwner(unique("nobody"))).toBeUndefined();
      });
    });

    describe("namespace limits", () => {
      it("answers {} for a namespace without limits, then what was put, until removed", async () => {
        const namespace = unique("ns");
        expect(await store.getNamespaceLimits(namespace)).toEqual({});
        await store.putNamespaceLimits(namespace, { invocationsPerMinute: 7 });
        expect(await store.getNamespaceLimits(namespace)).toEqual({ invocationsPerMinute: 7 });
        await store.putNamespaceLimits(namespace, { firesPerMinute: 3, concurrentInvocations: 2 });
        expect(await store.getNamespaceLimits(namespace)).toEqual({ firesPerMinute: 3, concurrentInvocations: 2 });
        await store.putNamespaceLimits(namespace, undefined);
        expect(await store.getNamespaceLimits(namespace)).toEqual({});
      });
    });

    describe("entities", () => {
      it("creates an entity at revision 1 with its code, and refuses the name in any collection", async () => {
        const namespace = unique("ns");
        const { entity, code } = await storedAction(ref(`${namespace}/hello`), { code: "function main() { return {a: 1}; }" });
        expect(await store.createEntity(entity, code)).toBe(true);
        expect(await store.getEntity(entity.ref)).toEqual({ ...entity, rev: 1 });
        expect(await store.getCode(code.digest)).toBe(code.text);

        const trigger = { collection: "triggers" as const, ref: entity.ref, doc: triggerDoc(entity.ref) };
        expect(await store.createEntity(trigger)).toBe(false);
        expect((await store.getEntity(entity.ref))?.collection).toBe("actions");
        expect(await store.getEntity(ref(`${namespace}/other`))).toBeUndefined();
      });

      it("updates and deletes only at the expected revision", async () => {
        const namespace = unique("ns");
        const first = await storedAction(ref(`${namespace}/a`), { code: "// v1" });
        await store.createEntity(first.entity, first.code);
        const second = await storedAction(ref(`${namespace}/a`), { code: "// v2", version: "0.0.2" });

        expect(await store.updateEntity(second.entity, 1, second.code)).toBe(true);
        expect(await store.getEntity(first.entity.ref)).toEqual({ ...second.entity, rev: 2 });
        expect(await store.getCode(second.code.digest)).toBe("// v2");

        // A writer that read revision 1 lost the race.
        expect(await store.updateEntity(first.entity, 1, first.code)).toBe(false);
        expect((await store.getEntity(first.entity.ref))?.doc.version).toBe("0.0.2");
        expect(await store.deleteEntity(first.entity.ref, 1)).toBe(false);
        expect(await store.getEntity(first.entity.ref)).toBeDefined();

        expect(await store.deleteEntity(first.entity.ref, 2)).toBe(true);
        expect(await store.getEntity(first.entity.ref)).toBeUndefined();
        expect(await store.deleteEntity(first.entity.ref, 2)).toBe(false);
      });

      it("keeps code shared by digest while an entity refers to it, and drops it with the last", async () => {
        const namespace = unique("ns");
        const text = `// shared ${namespace}`;
        const one = await storedAction(ref(`${namespace}/one`), { code: text });
        const two = await storedAction(ref(`${namespace}/two`), { code: text });
        await store.createEntity(one.entity, one.code);
        await store.createEntity(two.entity, two.code);
        expect(await store.deleteEntity(one.entity.ref, 1)).toBe(true);
        expect(await store.getCode(one.code.digest)).toBe(text);

        const replaced = await storedAction(ref(`${namespace}/two`), { code: `// replaced ${namespace}` });
        expect(await store.updateEntity(replaced.entity, 1, replaced.code)).toBe(true);
        expect(await store.getCode(one.code.digest)).toBeUndefined();
        expect(await store.getCode(replaced.code.digest)).toBe(`// replaced ${namespace}`);
      });

      it("keeps code larger than one row whole", async () => {
        const namespace = unique("ns");
        const text = `// ${namespace}\n${"x".repeat(1_200_000)}é`;
        const big = await storedAction(ref(`${namespace}/big`), { code: text });
        expect(await store.createEntity(big.entity, big.code)).toBe(true);
        expect(await store.getCode(big.code.digest)).toBe(text);
      });

      it("lists a collection newest first, pages it, narrows it to a package, and counts it", async () => {
        const namespace = unique("ns");
        const pkg = ref(`${namespace}/pkg`);
        await store.createEntity({ collection: "packages", ref: pkg, doc: packageDoc(pkg, { updated: 1_000 }) });
        const actions = [
          { path: `${namespace}/old`, updated: 1_000 },
          { path: `${namespace}/new`, updated: 3_000 },
          { path: `${namespace}/pkg/inner`, updated: 2_000 },
        ];
        for (const { path, updated } of actions) {
          const { entity, code } = await storedAction(ref(path), { updated });
          await store.createEntity(entity, code);
        }
        const names = (list: { ref: { name: string } }[]) => list.map((entity) => entity.ref.name);

        expect(names(await store.listEntities(namespace, "actions", page(10)))).toEqual(["new", "inner", "old"]);
        expect(names(await store.listEntities(namespace, "actions", page(1, 1)))).toEqual(["inner"]);
        expect(names(await store.listEntities(namespace, "actions", page(10), "pkg"))).toEqual(["inner"]);
        expect(names(await store.listEntities(namespace, "actions", page(10), ""))).toEqual(["new", "old"]);
        expect(await store.listEntities(namespace, "actions", page(10, 3))).toEqual([]);
        expect((await store.listEntities(namespace, "actions", page(10), "pkg"))[0]).toMatchObject({
          ref: { namespace, packageName: "pkg", name: "inner" },
          rev: 1,
        });

        expect(await store.countEntities(namespace, "actions")).toBe(3);
        expect(await store.countEntities(namespace, "actions", "pkg")).toBe(1);
        expect(await store.countEntities(namespace, "packages")).toBe(1);
        expect(await store.countEntities(namespace, "rules")).toBe(0);
      });

      it("lists only the published packages of a namespace for others to see", async () => {
        const namespace = unique("ns");
        for (const [name, publish, updated] of [["open", true, 2_000], ["closed", false, 3_000], ["shared", true, 1_000]] as const) {
          const pkg = ref(`${namespace}/${name}`);
          await store.createEntity({ collection: "packages", ref: pkg, doc: packageDoc(pkg, { publish, updated }) });
        }
        const listed = await store.listPublicPackages(namespace, page(10));
        expect(listed.map((entity) => entity.ref.name)).toEqual(["open", "shared"]);
        expect((await store.listPublicPackages(namespace, page(1, 1))).map((entity) => entity.ref.name)).toEqual(["shared"]);
      });
    });

    describe("activations", () => {
      it("records an activation once by id, readable only in its namespace", async () => {
        const namespace = unique("ns");
        const record = activationRecord({ activationId: hexId(), namespace, name: "hello", start: 1_790_000_000_123 });
        expect(await store.putActivation(record)).toBe(true);
        expect(await store.putActivation({ ...record, logs: ["again"] })).toBe(false);
        expect(await store.getActivation(namespace, record.activationId)).toEqual(record);
        expect(await store.getActivation(unique("ns"), record.activationId)).toBeUndefined();
      });

      it("lists newest first with name, package, since and upto filters, pages and counts", async () => {
        const namespace = unique("ns");
        const at = 1_790_000_000_000;
        const records = [
          activationRecord({ activationId: hexId(), namespace, name: "a", start: at + 1 }),
          activationRecord({ activationId: hexId(), namespace, name: "b", start: at + 2 }),
          activationRecord({ activationId: hexId(), namespace, name: "a", path: `${namespace}/pkg/a`, start: at + 3 }),
          activationRecord({ activationId: hexId(), namespace, name: "a", start: at + 4 }),
        ];
        for (const record of records) await store.putActivation(record);
        /** Which of `records` a list answers, by position. */
        const ids = (list: ActivationRecord[]) => list.map((listed) => records.findIndex((r) => r.activationId === listed.activationId));

        expect(ids(await store.listActivations(namespace, {}, page(10)))).toEqual([3, 2, 1, 0]);
        expect(ids(await store.listActivations(namespace, {}, page(2, 1)))).toEqual([2, 1]);
        expect(ids(await store.listActivations(namespace, { name: "a" }, page(10)))).toEqual([3, 2, 0]);
        expect(ids(await store.listActivations(namespace, { name: "a", packageName: "" }, page(10)))).toEqual([3, 0]);
        expect(ids(await store.listActivations(namespace, { name: "a", packageName: "pkg" }, page(10)))).toEqual([2]);
        expect(ids(await store.listActivations(namespace, { since: at + 2, upto: at + 3 }, page(10)))).toEqual([2, 1]);
        expect(await store.listActivations(unique("ns"), {}, page(10))).toEqual([]);

        expect(await store.countActivations(namespace, {})).toBe(4);
        expect(await store.countActivations(namespace, { name: "a" })).toBe(3);
        expect(await store.countActivations(namespace, { since: at + 3 })).toBe(2);
        expect(await store.countActivations(namespace, { upto: at + 1 })).toBe(1);
      });

      it("records many at once, each once, past one batch", async () => {
        const namespace = unique("ns");
        const records = Array.from({ length: 61 }, (_, i) =>
          activationRecord({ activationId: hexId(), namespace, name: "many", start: 1_790_000_000_000 + i }),
        );
        await store.putActivation(records[0]);
        // Each answer says whether that record was stored now: the first was there already.
        expect(await store.putActivations(records)).toEqual(records.map((_, i) => i !== 0));
        expect(await store.putActivations(records.slice(0, 3))).toEqual([false, false, false]);
        expect(await store.countActivations(namespace, {})).toBe(61);
        expect((await store.listActivations(namespace, {}, page(1)))[0]).toEqual(records[60]);
      });

      it("keeps a record larger than one row whole, in lists too", async () => {
        const namespace = unique("ns");
        const record = activationRecord({
          activationId: hexId(),
          namespace,
          name: "chatty",
          start: 1_790_000_000_000,
          logs: Array.from({ length: 12 }, (_, i) => `${i} ${"y".repeat(100_000)}`),
        });
        expect(await store.putActivation(record)).toBe(true);
        expect(await store.putActivation(record)).toBe(false);
        expect(await store.getActivation(namespace, record.activationId)).toEqual(record);
        expect(await store.listActivations(namespace, {}, page(5))).toEqual([record]);
      });

      it("deletes the activations that started before a time, large ones included", async () => {
        const namespace = unique("ns");
        // Times long past, so no other case's records are that old.
        const old = activationRecord({ activationId: hexId(), namespace, name: "old", start: 1_000 });
        const bigOld = activationRecord({ activationId: hexId(), namespace, name: "old", start: 1_500, logs: ["z".repeat(600_000)] });
        const kept = activationRecord({ activationId: hexId(), namespace, name: "kept", start: 2_000 });
        expect(await store.putActivations([old, bigOld, kept])).toEqual([true, true, true]);
        expect(await store.getActivation(namespace, bigOld.activationId)).toEqual(bigOld);
        // An id twice in one call is stored once, and answered so once; a chunked record's repeat is no more stored than a small one's.
        expect(await store.putActivations([kept, bigOld])).toEqual([false, false]);
        const twice = activationRecord({ activationId: hexId(), namespace, name: "twice", start: 1_800 });
        expect(await store.putActivations([twice, twice])).toEqual([true, false]);
        expect(await store.deleteActivationsBefore(2_000)).toBe(3);
        expect(await store.getActivation(namespace, old.activationId)).toBeUndefined();
        expect(await store.getActivation(namespace, bigOld.activationId)).toBeUndefined();
        expect(await store.getActivation(namespace, kept.activationId)).toEqual(kept);
        // A record with the id of a deleted one may be written again.
        expect(await store.putActivation(bigOld)).toBe(true);
        expect(await store.getActivation(namespace, bigOld.activationId)).toEqual(bigOld);
        await store.deleteActivationsBefore(2_001);
      });
    });

    describe("dispatch journal", () => {
      const message = (activationId: string, namespace: string): DispatchMessage => ({
        type: "invoke",
        request: {
          activationId,
          transactionId: "t",
          action: { namespace, name: "a" },
          identity: { subject: namespace, namespace, uuid: "u", authKey: "u:k" },
          params: { n: 1 },
          receivedAt: 5,
          apiHost: "http://h",
        },
      });

      it("journals a message, re-stamps it when queued again, and lists lost ones oldest first", async () => {
        const namespace = unique("ns");
        const [a, b, c] = [hexId(), hexId(), hexId()];
        await store.journalDispatch({ activationId: a, namespace, message: message(a, namespace), boot: "old-run", at: 100 });
        await store.journalDispatch({ activationId: b, namespace, message: message(b, namespace), boot: "this-run", at: 50 });
        await store.journalDispatch({ activationId: c, namespace, message: message(c, namespace), boot: "this-run", at: 900 });
        const mine = (list: JournalEntry[]) => list.filter((entry) => [a, b, c].includes(entry.activationId));

        const lost = mine(await store.listJournal({ otherThanBoot: "this-run", dispatchedBefore: 200, limit: 1_000 }));
        expect(lost).toEqual([
          { activationId: b, namespace, message: message(b, namespace), boot: "this-run", dispatchedAt: 50, attempts: 1 },
          { activationId: a, namespace, message: message(a, namespace), boot: "old-run", dispatchedAt: 100, attempts: 1 },
        ]);

        await store.journalDispatch({ activationId: a, namespace, message: message(a, namespace), boot: "this-run", at: 1_000 });
        const after = mine(await store.listJournal({ otherThanBoot: "this-run", dispatchedBefore: 2_000, limit: 1_000 }));
        expect(after.map((entry) => [entry.activationId, entry.attempts, entry.boot, entry.dispatchedAt])).toEqual([
          [b, 1, "this-run", 50],
          [c, 1, "this-run", 900],
          [a, 2, "this-run", 1_000],
        ]);
        for (const id of [a, b, c]) await store.deleteJournalEntry(id);
      });

      it("journals several entries in one write as one by one, a repeated id counting one more attempt", async () => {
        const namespace = unique("ns");
        const [a, b] = [hexId(), hexId()];
        await store.journalDispatches([]);
        await store.journalDispatches([
          { activationId: a, namespace, message: message(a, namespace), boot: "old-run", at: 10 },
          { activationId: b, namespace, message: message(b, namespace), boot: "old-run", at: 20 },
          { activationId: a, namespace, message: message(a, namespace), boot: "old-run", at: 30 },
        ]);
        const listed = (await store.listJournal({ otherThanBoot: "this-run", dispatchedBefore: 0, limit: 1_000 })).filter((entry) =>
          [a, b].includes(entry.activationId),
        );
        expect(listed.map((entry) => [entry.activationId, entry.attempts, entry.dispatchedAt])).toEqual([
          [b, 1, 20],
          [a, 2, 30],
        ]);
        for (const id of [a, b]) await store.deleteJournalEntry(id);
      });

      it("leaves out and prunes entries whose activation is recorded, and deletes one entry", async () => {
        const namespace = unique("ns");
        const [done, open, dropped] = [hexId(), hexId(), hexId()];
        for (const id of [done, open, dropped]) {
          await store.journalDispatch({ activationId: id, namespace, message: message(id, namespace), boot: "old-run", at: 10 });
        }
        await store.putActivation(activationRecord({ activationId: done, namespace, name: "a", start: 1_790_000_000_000 }));
        await store.deleteJournalEntry(dropped);
        const query = { otherThanBoot: "this-run", dispatchedBefore: 0, limit: 1_000 };
        const mine = async () =>
          (await store.listJournal(query)).map((entry) => entry.activationId).filter((id) => [done, open, dropped].includes(id));

        expect(await mine()).toEqual([open]);
        expect(await store.pruneJournal()).toBeGreaterThanOrEqual(1);
        expect(await store.pruneJournal()).toBe(0);
        expect(await mine()).toEqual([open]);
        await store.deleteJournalEntry(open);
        expect(await mine()).toEqual([]);
      });

      it("journals entries and records an activation in one write, and records it only once", async () => {
        const namespace = unique("ns");
        const fire = hexId();
        // Listed oldest first, then by id.
        const [rule1, rule2] = [hexId(), hexId()].sort();
        const record = activationRecord({ activationId: fire, namespace, name: "t", start: 1_790_000_000_000 });
        const entries = [rule1, rule2].map((id) => ({ activationId: id, namespace, message: message(id, namespace), boot: "this-run", at: 70 }));
        expect(await store.journalWithRecord(entries, record)).toBe(true);
        expect(await store.getActivation(namespace, fire)).toEqual(record);
        const query = { otherThanBoot: "other-run", dispatchedBefore: 0, limit: 1_000 };
        const mine = async () =>
          (await store.listJournal(query))
            .filter((entry) => [rule1, rule2].includes(entry.activationId))
            .map((entry) => [entry.activationId, entry.boot, entry.dispatchedAt, entry.attempts]);
        expect(await mine()).toEqual([
          [rule1, "this-run", 70, 1],
          [rule2, "this-run", 70, 1],
        ]);
        // Again (a fire carried out twice): the record stays the first one, the entries count another attempt.
        expect(await store.journalWithRecord(entries.slice(0, 1), { ...record, logs: ["again"] })).toBe(false);
        expect((await store.getActivation(namespace, fire))?.logs).toEqual(record.logs);
        expect((await mine()).map((row) => row[3])).toEqual([2, 1]);
        for (const id of [rule1, rule2]) await store.deleteJournalEntry(id);
      });

      it("answers at most `limit` entries", async () => {
        const namespace = unique("ns");
        const ids = [hexId(), hexId(), hexId()];
        for (const id of ids) await store.journalDispatch({ activationId: id, namespace, message: message(id, namespace), boot: "old-run", at: 1 });
        expect(await store.listJournal({ otherThanBoot: "this-run", dispatchedBefore: 0, limit: 2 })).toHaveLength(2);
        for (const id of ids) await store.deleteJournalEntry(id);
      });
    });

    describe("gateway APIs", () => {
      const doc = (basePath: string, n: number) => ({ swagger: "2.0", basePath, info: { title: "t", version: `${n}` } }) as never;

      it("saves a new API once, updates and deletes it only at its revision, lists oldest first", async () => {
        const tenant = unique("tenant");
        expect(await store.saveApi({ tenant, key: "one", doc: doc("/one", 1) }, undefined)).toBe(true);
        expect(await store.saveApi({ tenant, key: "one", doc: doc("/one", 9) }, undefined)).toBe(false);
        expect(await store.saveApi({ tenant, key: "two", doc: doc("/two", 1) }, undefined)).toBe(true);
        expect(await store.listApis(tenant)).toEqual([
          { tenant, key: "one", doc: doc("/one", 1), rev: 1 },
          { tenant, key: "two", doc: doc("/two", 1), rev: 1 },
        ]);

        expect(await store.saveApi({ tenant, key: "one", doc: doc("/one", 2) }, 1)).toBe(true);
        expect(await store.saveApi({ tenant, key: "one", doc: doc("/one", 3) }, 1)).toBe(false);
        expect((await store.listApis(tenant))[0]).toEqual({ tenant, key: "one", doc: doc("/one", 2), rev: 2 });

        expect(await store.deleteApi(tenant, "one", 1)).toBe(false);
        expect(await store.deleteApi(tenant, "one", 2)).toBe(true);
        expect((await store.listApis(tenant)).map((api) => api.key)).toEqual(["two"]);
        expect(await store.listApis(unique("tenant"))).toEqual([]);
      });
    });
  });
}
