// The cache of resolved actions controllers and invokers keep between
// invokes (src/core/resolve.ts): what it keeps, for how long, and which
// changes make it forget.
import { describe, expect, it } from "vitest";
import type { EntityReader } from "../../src/core/entities.js";
import { WhiskError } from "../../src/core/errors.js";
import { RESOLUTION_TTL_MS, ResolutionCache } from "../../src/core/resolve.js";
import { memoryStore } from "../support/memory-sql.js";
import { countingReader, packageDoc, putAction, putEntity, ref } from "../support/entities.js";

/** The in-memory store, with a count of the entity reads resolution made. */
function countedStore() {
  const { store } = memoryStore();
  return { store, ...countingReader(store) };
}

function clock(start = 1_000_000) {
  const time = { now: start };
  return { time, now: () => time.now };
}

describe("ResolutionCache", () => {
  it("answers a repeated resolution without reading the store, until the TTL has passed", async () => {
    const { store, reader, counter } = countedStore();
    await putAction(store, "guest/hello");
    const { time, now } = clock();
    const cache = new ResolutionCache({ now });

    const first = await cache.resolve(reader, ref("guest/hello"), "guest");
    const reads = counter.reads;
    expect(reads).toBeGreaterThan(0);
    expect(await cache.resolve(reader, ref("guest/hello"), "guest")).toEqual(first);
    expect(counter.reads).toBe(reads);

    time.now += RESOLUTION_TTL_MS;
    await cache.resolve(reader, ref("guest/hello"), "guest");
    expect(counter.reads).toBe(2 * reads);
  });

  it("keeps resolutions apart per caller namespace", async () => {
    const { store, reader, counter } = countedStore();
    await putEntity(store, { collection: "packages", ref: ref("owner/shared"), doc: packageDoc(ref("owner/shared"), { publish: true }) });
    await putAction(store, "owner/shared/a");
    const cache = new ResolutionCache();

    await cache.resolve(reader, ref("owner/shared/a"), "owner");
    const reads = counter.reads;
    await cache.resolve(reader, ref("owner/shared/a"), "other");
    expect(counter.reads).toBe(2 * reads);
  });

  it("keeps no failure: an action created after a 404 is found at once", async () => {
    const { store, reader } = countedStore();
    const cache = new ResolutionCache();
    const missing = await cache.resolve(reader, ref("guest/later"), "guest").catch((err: unknown) => err);
    expect(missing).toBeInstanceOf(WhiskError);
    expect((missing as WhiskError).status).toBe(404);

    await putAction(store, "guest/later");
    expect((await cache.resolve(reader, ref("guest/later"), "guest")).ref).toEqual(ref("guest/later"));
  });

  it("forgets an action invalidated by name and keeps the others", async () => {
    const { store, reader, counter } = countedStore();
    await putAction(store, "guest/a");
    await putAction(store, "guest/b");
    const cache = new ResolutionCache();
    await cache.resolve(reader, ref("guest/a"), "guest");
    await cache.resolve(reader, ref("guest/b"), "guest");
    const reads = counter.reads;

    // It says what it forgot: who resolved which name (an invoker reads those again).
    expect(cache.invalidate([ref("guest/a")])).toEqual([{ callerNamespace: "guest", addressed: ref("guest/a") }]);
    expect(cache.invalidate([ref("guest/a")])).toEqual([]);
    await cache.resolve(reader, ref("guest/b"), "guest");
    expect(counter.reads).toBe(reads);
    await cache.resolve(reader, ref("guest/a"), "guest");
    expect(counter.reads).toBeGreaterThan(reads);
  });

  it("forgets what was resolved through a binding when the binding, the bound package or the action changes", async () => {
    const { store, reader, counter } = countedStore();
    await putEntity(store, { collection: "packages", ref: ref("guest/lib"), doc: packageDoc(ref("guest/lib")) });
    await putAction(store, "guest/lib/echo");
    const binding = ref("guest/bound");
    await putEntity(store, { collection: "packages", ref: binding, doc: packageDoc(binding, { binding: ref("guest/lib") }) });
    const cache = new ResolutionCache();
    const through = ref("guest/bound/echo");

    for (const changed of [ref("guest/bound"), ref("guest/lib"), ref("guest/lib/echo")]) {
      await cache.resolve(reader, through, "guest");
      const reads = counter.reads;
      await cache.resolve(reader, through, "guest");
      expect(counter.reads).toBe(reads);
      cache.invalidate([changed]);
      await cache.resolve(reader, through, "guest");
      expect(counter.reads, `after ${changed.name} changed`).toBeGreaterThan(reads);
    }
  });

  it("does not keep a resolution read before an invalidation that came while it was reading", async () => {
    const { store } = countedStore();
    await putAction(store, "guest/racy");
    let reads = 0;
    let invalidateDuringRead = true;
    const cache = new ResolutionCache();
    const reader: EntityReader = {
      getEntity: async (entity) => {
        reads++;
        const found = await store.getEntity(entity);
        if (invalidateDuringRead) cache.invalidate([ref("guest/racy")]);
        return found;
      },
    };

    await cache.resolve(reader, ref("guest/racy"), "guest");
    invalidateDuringRead = false;
    await cache.resolve(reader, ref("guest/racy"), "guest");
    expect(reads).toBe(2);
    await cache.resolve(reader, ref("guest/racy"), "guest");
    expect(reads).toBe(2);
  });
});
