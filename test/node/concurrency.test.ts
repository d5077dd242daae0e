// concurrentInvocations on the Node host: leases in PostgreSQL, taken by
// controller replicas (each its own pool) under the namespace's advisory lock;
// places a replica holds for blocking invokes, or lends to queued
// activations, are leases too, and the ends of those activations reach the
// lender over NATS.
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConcurrencyLimiter, LEASE_TTL_MS, PARKED_MS } from "../../src/core/concurrency.js";
import { WhiskError } from "../../src/core/errors.js";
import { applyMigrations } from "../../src/node/migrate.js";
import { createPool, PostgresSql } from "../../src/node/postgres.js";
import { activationStream } from "../../src/node/nats.js";
import { joinPlaceReturns, natsPlaceReturns, placeReturnsSubject, type PlaceReturnsMember } from "../../src/node/place-returns.js";
import { postgresConcurrency, postgresLeaseAuthority } from "../../src/node/postgres-throttle.js";
import { SqlStore } from "../../src/store/sql-store.js";
import { createTestDatabase, testServices, testStreamName } from "./services.js";

const services = await testServices();

const outcome = (work: Promise<unknown>) =>
  work.then(
    () => "ok",
    (err: WhiskError) => `${err.status} ${err.message}`,
  );

describe.skipIf(!services)("PostgreSQL concurrency leases", () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let pools: pg.Pool[];
  const clock = { now: 1_700_000_000_000 };

  beforeAll(async () => {
    database = await createTestDatabase(services!);
    pools = [createPool(database.url), createPool(database.url)];
    await applyMigrations(pools[0]!);
  });

  afterAll(async () => {
    await Promise.all((pools ?? []).map((pool) => pool.end()));
    await database?.drop();
  });

  const replicas = (limit: number) =>
    pools.map(
      (pool) =>
        new ConcurrencyLimiter({
          authority: postgresLeaseAuthority(pool, () => clock.now),
          limitsOf: async () => ({ concurrentInvocations: limit }),
          now: () => clock.now,
        }),
    );
  const leases = async (namespace: string) =>
    (await pools[0]!.query("SELECT activation_id FROM concurrency_leases WHERE namespace = $1 ORDER BY activation_id", [namespace])).rows.map(
      (row) => row.activation_id as string,
    );

  it("never admits more than the limit across replicas, and admits again once places are released", async () => {
    const gates = replicas(5);
    const outcomes = await Promise.all(Array.from({ length: 40 }, (_, i) => outcome(gates[i % 2]!.acquire("busy", `a${i}`))));
    expect(outcomes.filter((o) => o === "ok")).toHaveLength(5);
    expect(outcomes.filter((o) => o !== "ok")).toEqual(Array(35).fill("429 Too many concurrent requests in flight (count: 5, allowed: 5)."));
    const held = await leases("busy");
    expect(held).toHaveLength(5);

    // One replica's places are released through the other.
    await gates[1]!.release("busy", held[0]!);
    await gates[1]!.release("busy", held[1]!);
    const more = await Promise.all(Array.from({ length: 6 }, (_, i) => outcome(gates[i % 2]!.acquire("busy", `b${i}`))));
    expect(more.filter((o) => o === "ok")).toHaveLength(2);
    expect(await leases("busy")).toHaveLength(5);
    // Other namespaces are counted apart.
    const quiet = await gates[0]!.acquire("quiet", "q1");
    expect(await leases("quiet")).toEqual([quiet]);
  });

  it("frees the places of activations nobody released once their leases expire", async () => {
    const gates = replicas(2);
    // A place handed over (leased as a place) and one leased by the activation's id for 10 s.
    const lost1 = await gates[0]!.acquire("crashy", "lost1");
    await gates[1]!.acquire("crashy", "lost2", 10_000);
    expect(await outcome(gates[0]!.acquire("crashy", "next"))).toBe("429 Too many concurrent requests in flight (count: 2, allowed: 2).");
    clock.now += 10_000;
    const next = await gates[1]!.acquire("crashy", "next");
    expect((await leases("crashy")).sort()).toEqual([lost1, next].sort());
    clock.now += LEASE_TTL_MS;
    const later = await gates[0]!.acquire("crashy", "later");
    expect(await leases("crashy")).toEqual([later]);
  });

  it("lets a redelivered activation keep its place, and reads the limit wskadmin stores", async () => {
    const store = new SqlStore(new PostgresSql(pools[0]!));
    await store.putNamespaceLimits("admin", { concurrentInvocations: 1 });
    const gate = postgresConcurrency(pools[1]!, store);
    const once = await gate.acquire("admin", "once");
    expect(await gate.acquire("admin", "once")).toBe(once);
    expect(await outcome(gate.acquire("admin", "twice"))).toBe("429 Too many concurrent requests in flight (count: 1, allowed: 1).");
    await gate.release("admin", once!);
    await gate.release("admin", once!);
    const twice = await gate.acquire("admin", "twice");
    expect(await leases("admin")).toEqual([twice]);
  });

  it("admits exactly the limit of held places across replicas, and hands parked ones to whichever replica asks", async () => {
    const gates = replicas(4);
    const burst = await Promise.all(Array.from({ length: 12 }, (_, i) => outcome(gates[i % 2]!.hold("held", `h${i}`))));
    expect(burst.filter((o) => o === "ok")).toHaveLength(4);
    expect(burst.filter((o) => o !== "ok")).toEqual(Array(8).fill("429 Too many concurrent requests in flight (count: 4, allowed: 4)."));
    expect(await leases("held")).toHaveLength(4);
    await Promise.all(burst.map((_, i) => gates[i % 2]!.release("held", `h${i}`)));
    // Parked in whichever replica held them, the places are still counted, and still come to the other replica.
    const one = replicas(1);
    for (let i = 0; i < 4; i++) {
      await one[i % 2]!.hold("held", `s${i}`);
      await one[i % 2]!.release("held", `s${i}`);
    }
    const queued = await one[0]!.acquire("held", "queued");
    expect(await outcome(one[1]!.hold("held", "over"))).toBe("429 Too many concurrent requests in flight (count: 1, allowed: 1).");
    await one[1]!.release("held", queued!);
    await new Promise((resolve) => setTimeout(resolve, PARKED_MS * 3));
    expect(await leases("held")).toEqual([]);
  });
});

describe.skipIf(!services)("places lent to queued activations, returned over NATS", () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: pg.Pool;
  let store: SqlStore;
  let connections: NatsConnection[];
  const stream = activationStream(`EDGEWHISK_TEST_RETURNS_${Date.now().toString(36).toUpperCase()}`);

  beforeAll(async () => {
    database = await createTestDatabase(services!);
    pool = createPool(database.url);
    await applyMigrations(pool);
    store = new SqlStore(new PostgresSql(pool));
    connections = await Promise.all([0, 1, 2].map(() => connect({ servers: services!.natsUrl })));
  });

  afterAll(async () => {
    await Promise.all((connections ?? []).map((nc) => nc.close()));
    await pool?.end();
    await database?.drop();
  });

  const members: PlaceReturnsMember[] = [];
  /** A controller's or invoker's limiter on its own connection, hearing the others' returns. */
  const process = (nc: NatsConnection) => {
    const limiter = postgresConcurrency(pool, store, natsPlaceReturns(nc, stream));
    members.push(joinPlaceReturns(nc, stream, limiter));
    return limiter;
  };
  /** Until every message published so far has reached every connection: the server has them all after the first round, has passed them on before the second's answers. */
  const delivered = async () => {
    await Promise.all(connections.map((nc) => nc.flush()));
    await Promise.all(connections.map((nc) => nc.flush()));
  };
  const leases = async (namespace: string) =>
    (await pool.query("SELECT activation_id FROM concurrency_leases WHERE namespace = $1", [namespace])).rows.map((row) => row.activation_id as string);

  it("lends a controller's place to a queued activation and takes it back when the invoker that ran it releases it", async () => {
    await store.putNamespaceLimits("lent", { concurrentInvocations: 2 });
    const [controllerA, controllerB, invoker] = connections.map(process);
    await controllerA!.acquire("lent", "q1");
    await controllerB!.acquire("lent", "q2");
    expect(await leases("lent")).toEqual([expect.stringMatching(/^place:/), expect.stringMatching(/^place:/)]);
    expect(await outcome(controllerA!.acquire("lent", "q3"))).toBe("429 Too many concurrent requests in flight (count: 2, allowed: 2).");

    await invoker!.release("lent", "q1");
    await delivered();
    expect(controllerA!.held("lent")).toEqual({ places: 1, inUse: 0 });
    expect(controllerB!.held("lent")).toEqual({ places: 1, inUse: 1 });
    // The place A took back is A's next activation's, with no round trip to PostgreSQL.
    const before = await leases("lent");
    await controllerA!.acquire("lent", "q3");
    expect(await leases("lent")).toEqual(before);
    expect(await outcome(controllerB!.acquire("lent", "q4"))).toBe("429 Too many concurrent requests in flight (count: 2, allowed: 2).");

    await invoker!.release("lent", "q2");
    await invoker!.release("lent", "q3");
    await delivered();
    await new Promise((resolve) => setTimeout(resolve, PARKED_MS * 3));
    expect(await leases("lent")).toEqual([]);
    await Promise.all(members.splice(0).map((member) => member.leave()));
  });

  it("sends the returns of one turn of the event loop as one message per namespace", async () => {
    const heard: { namespace: string; activationIds: string[] }[] = [];
    const listener = connections[0]!.subscribe(placeReturnsSubject(stream), { callback: (_err, msg) => void heard.push(msg.json()) });
    await connections[0]!.flush();
    const returns = natsPlaceReturns(connections[1]!, stream);
    await Promise.all([returns.send("one", ["a1", "a2"]), returns.send("two", ["b1"]), returns.send("one", ["a3"])]);
    await delivered();
    listener.unsubscribe();
    expect(heard).toEqual([
      { namespace: "one", activationIds: ["a1", "a2", "a3"] },
      { namespace: "two", activationIds: ["b1"] },
    ]);
  });

  it("hands the places a stopping controller lent to a live process, which takes them back when their activations end", async () => {
    await store.putNamespaceLimits("handed", { concurrentInvocations: 3 });
    const [stopping, live, invoker] = connections.map(process);
    const [leaving] = members.slice(-3);
    await stopping!.acquire("handed", "q1");
    await stopping!.acquire("handed", "q2");
    await stopping!.hold("handed", "blocking");
    await stopping!.release("handed", "blocking");
    expect(await leases("handed")).toHaveLength(3);

    // Its parked place goes back to PostgreSQL; the two in use go to another process, which is the only one listening for adoptions now.
    await leaving!.leave();
    expect(await leases("handed")).toHaveLength(2);
    expect(stopping!.held("handed")).toEqual({ places: 0, inUse: 0 });
    expect(live!.held("handed").inUse + invoker!.held("handed").inUse).toBe(2);
    const adopter = live!.held("handed").inUse === 2 ? live! : invoker!;

    await invoker!.release("handed", "q1");
    await delivered();
    expect(adopter.held("handed")).toEqual({ places: 2, inUse: 1 });
    // q2's place is still counted: the namespace has two left.
    await live!.acquire("handed", "q3");
    await live!.acquire("handed", "q4");
    expect(await outcome(live!.acquire("handed", "q5"))).toBe("429 Too many concurrent requests in flight (count: 3, allowed: 3).");
    await Promise.all(members.splice(0).map((member) => member.leave()));
  });
});
