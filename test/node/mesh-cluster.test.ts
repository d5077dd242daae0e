// The Node host scaling while it works: 2 controllers and 3 invokers as
// separate processes on PostgreSQL and NATS, a bounded load of blocking and
// non-blocking invokes over 50 actions, a 4th invoker joining mid-run, one
// invoker SIGKILLed and one SIGTERMed mid-run. Every accepted activation is
// recorded exactly once (records counted against the accepted ids; a second
// run's record would be refused and counted by its invoker), the work spreads
// over all invokers, the one that joined takes work without any restart, and
// the one stopped with SIGTERM finishes its work before it exits.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPool, PostgresSql } from "../../src/node/postgres.js";
import { SqlStore } from "../../src/store/sql-store.js";
import { client } from "../e2e/scenarios.js";
import { startCluster, type HostProcess, type NodeCluster } from "./cluster.js";
import { testServices } from "./services.js";
import { until } from "../support/until.js";

const services = await testServices();

const ACTIONS = 50;
const SLEEPER = `function main(p) {
  return new Promise((resolve) => setTimeout(() => resolve({ n: p.n }), p.ms));
}`;

describe.skipIf(!services)("Node host under load: invokers joining, killed and drained mid-run", () => {
  let cluster: NodeCluster;
  const ow = (i: number) => client({ apihost: cluster.controllers[i % cluster.controllers.length]!.url });
  const names = Array.from({ length: ACTIONS }, (_, i) => `mesh-${i}`);
  /** Activation ids the API accepted (202 or a blocking answer). */
  const accepted: string[] = [];
  let sent = 0;
  const failedBlocking: string[] = [];
  /** Ids of blocking invokes answered with a whisk internal error because their invoker died mid-run. */
  const lostBlocking: string[] = [];

  beforeAll(async () => {
    cluster = await startCluster(services!, { controllers: 2, invokers: 3 });
    // The load is 300 invokes in well under a minute (an operator's `wskadmin limits set`).
    const pool = createPool(cluster.databaseUrl, 1);
    await new SqlStore(new PostgresSql(pool))
      .putNamespaceLimits("guest", { invocationsPerMinute: 10_000, concurrentInvocations: 1_000 })
      .finally(() => pool.end());
    for (let i = 0; i < names.length; i += 10) {
      await Promise.all(names.slice(i, i + 10).map((name, j) => ow(i + j).actions.create({ name, action: SLEEPER })));
    }
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  /** `count` invokes, 8 at a time, every third blocking, spread over actions and controllers. */
  async function load(count: number): Promise<void> {
    const queue = Array.from({ length: count }, () => sent++);
    const worker = async () => {
      for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
        const name = names[(n * 7) % ACTIONS]!;
        if (n % 3 === 0) {
          try {
            const record = await ow(n).actions.invoke({ name, blocking: true, params: { n, ms: 50 } });
            accepted.push(record.activationId);
          } catch (err) {
            // Only an invoke in flight at the SIGKILLed invoker may fail: answered, as OpenWhisk answers a whisk internal error, with its record and 500.
            const { statusCode, error } = err as { statusCode?: number; error?: { activationId?: string } };
            failedBlocking.push(`${n}: ${statusCode} ${(err as Error).message}`);
            if (statusCode === 500 && error?.activationId) lostBlocking.push(error.activationId);
          }
        } else {
          const { activationId } = await ow(n).actions.invoke({ name, params: { n, ms: 1_500 } });
          accepted.push(activationId);
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
  }

  async function recordedCount(ids: string[]): Promise<number> {
    const db = new pg.Client({ connectionString: cluster.databaseUrl });
    await db.connect();
    try {
      const { rows } = await db.query("SELECT count(*)::int AS n FROM activations WHERE activation_id = ANY($1)", [ids]);
      return rows[0].n as number;
    } finally {
      await db.end();
    }
  }

  const allRecorded = (timeoutMs: number) =>
    until(async () => ((await recordedCount(accepted)) === accepted.length ? true : undefined), timeoutMs, "every accepted activation's record");

  const busy = (invoker: HostProcess) =>
    until(async () => ((await invoker.health())!.inFlight > 0 ? true : undefined), 15_000, `invoker on ${invoker.port} to have work in hand`);

  it("spreads work over all invokers, takes in a 4th mid-run, and loses or repeats nothing when one is killed and one drained", async () => {
    const [killed, drained, kept] = cluster.invokers as [HostProcess, HostProcess, HostProcess];

    await load(120);
    await allRecorded(30_000);
    const early = await Promise.all(cluster.invokers.map((invoker) => invoker.health()));
    for (const health of early) expect(health!.recorded).toBeGreaterThan(0);

    const joined = await cluster.addInvoker();
    // Controllers see it within a heartbeat or two; give them that before the next wave.
    await new Promise((resolve) => setTimeout(resolve, 2_500));

    const wave = load(120);
    // Long non-blocking activations, so what it holds when killed is queued work, not only a blocking call.
    await busy(killed);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await killed.kill();
    await busy(drained);
    const before = (await drained.health())!;
    const terminated = Date.now();
    await drained.terminate();
    const drainMs = Date.now() - terminated;
    await wave;
    await load(60);

    // The killed invoker's queue comes back through adoption (ADOPT_AFTER_MS and its ack wait).
    await allRecorded(45_000);
    expect(sent).toBe(300);
    expect(accepted.length + failedBlocking.length).toBe(300);
    expect(failedBlocking.length).toBeLessThanOrEqual(8);
    expect(lostBlocking.length, failedBlocking.join("\n")).toBe(failedBlocking.length);
    expect(await recordedCount(lostBlocking)).toBe(lostBlocking.length);
    expect(await recordedCount(accepted)).toBe(new Set(accepted).size);

    const survivors = await Promise.all([kept, joined].map((invoker) => invoker.health()));
    expect(survivors.map((h) => h!.duplicates)).toEqual([0, 0]);
    expect(survivors[1]!.recorded).toBeGreaterThan(0);
    for (const invoker of cluster.invokers) expect(invoker.output()).not.toMatch(/was already recorded/);
    expect(joined.output()).not.toMatch(/exited|failed to start/);

    // What the killed invoker held went to the others through adoption (logged once its queue is empty).
    const adopted = /adopted (\d+) activation\(s\) queued for invoker invoker-0/;
    const adoption = await until(async () => adopted.exec(cluster.controllers.map((c) => c.output()).join("\n")) ?? undefined, 15_000, "the adoption");
    expect(Number(adoption[1])).toBeGreaterThan(0);
    // SIGTERM: it drained (finishing what it had in hand, recorded by itself) and exited on its own.
    expect(drainMs).toBeLessThan(30_000);
    const drainedLog = /invoker invoker-1: drained; (\d+) activation\(s\) recorded/.exec(drained.output());
    expect(drainedLog, drained.output().slice(-2_000)).not.toBeNull();
    expect(Number(drainedLog![1])).toBeGreaterThanOrEqual(before.recorded + before.inFlight);
  }, 150_000);
});
