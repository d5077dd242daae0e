// Warm affinity on the Node host: with 2 controllers and 3 invokers as
// separate processes, repeated invokes of each of 10 actions (blocking and
// non-blocking, through either controller) stay on the invoker that holds
// the action's warm isolate, so each action starts cold about once. Cold
// starts are counted from the activation records (the executor annotates
// initTime only on the run that initialised its isolate). Dispatch that ignored
// the action (round robin, random) would start most actions cold on all
// three invokers within 12 invokes.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPool, PostgresSql } from "../../src/node/postgres.js";
import { SqlStore } from "../../src/store/sql-store.js";
import { client } from "../e2e/scenarios.js";
import { startCluster, type NodeCluster } from "./cluster.js";
import { testServices } from "./services.js";

const services = await testServices();

const ACTIONS = 10;
const INVOKES = 12;
const INVOKERS = 3;
const ECHO = "function main(p) { return { n: p.n }; }";

describe.skipIf(!services)("Node host: warm affinity across invokers", () => {
  let cluster: NodeCluster;
  let db: pg.Pool;
  const names = Array.from({ length: ACTIONS }, (_, i) => `affinity-${i}`);
  const ow = (n: number) => client({ apihost: cluster.controllers[n % cluster.controllers.length]!.url });

  beforeAll(async () => {
    // One public URL for both controllers, as a Service gives them: an isolate
    // is loaded per API host (its gateway knows one), so controllers reached
    // on origins of their own would each need their own isolates.
    cluster = await startCluster(services!, { controllers: 2, invokers: INVOKERS, controllerEnv: { API_HOST: "http://edgewhisk.test" } });
    db = new pg.Pool({ connectionString: cluster.databaseUrl, max: 4 });
    // 120 invokes in a few seconds, above the default 120 a minute (an operator's `wskadmin limits set`).
    const pool = createPool(cluster.databaseUrl, 1);
    await new SqlStore(new PostgresSql(pool))
      .putNamespaceLimits("guest", { invocationsPerMinute: 10_000, concurrentInvocations: 1_000 })
      .finally(() => pool.end());
    await Promise.all(names.map((name, i) => ow(i).actions.create({ name, action: ECHO })));
    // Both controllers hear every invoker's heartbeat before the first invoke (joins are seen within a heartbeat or two).
    await new Promise((resolve) => setTimeout(resolve, 2_500));
  }, 120_000);

  afterAll(async () => {
    await db?.end();
    await cluster?.stop();
  }, 60_000);

  async function recorded(activationId: string): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const { rowCount } = await db.query("SELECT 1 FROM activations WHERE activation_id = $1", [activationId]);
      if (rowCount) return;
      if (Date.now() > deadline) throw new Error(`activation ${activationId} was never recorded`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * One action's invokes one after the other (a second one in parallel
   * would start a second isolate on the same invoker), alternating
   * controllers, every third non-blocking (its record awaited).
   */
  async function invokeRepeatedly(name: string, offset: number): Promise<void> {
    for (let n = 0; n < INVOKES; n++) {
      const api = ow(n + offset);
      if (n % 3 === 2) {
        const { activationId } = await api.actions.invoke({ name, params: { n } });
        await recorded(activationId);
      } else {
        const record = await api.actions.invoke({ name, blocking: true, params: { n } });
        expect(record.response?.result).toEqual({ n });
      }
    }
  }

  it("starts each action cold about once, on the invoker that keeps serving it", async () => {
    await Promise.all(names.map((name, i) => invokeRepeatedly(name, i)));

    const { rows } = await db.query<{ name: string; doc: string }>("SELECT name, doc FROM activations WHERE name = ANY($1)", [names]);
    expect(rows).toHaveLength(ACTIONS * INVOKES);
    const cold = new Map(names.map((name) => [name, 0]));
    for (const row of rows) {
      const record = JSON.parse(row.doc) as { annotations: { key: string }[] };
      if (record.annotations.some((a) => a.key === "initTime")) cold.set(row.name, cold.get(row.name)! + 1);
    }
    const counts = names.map((name) => cold.get(name)!);
    // Every action started cold at least once: the count sees cold starts at all.
    for (const count of counts) expect(count).toBeGreaterThanOrEqual(1);
    expect(counts.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(ACTIONS * INVOKERS);
    // About one per invoker that serves an action: its home one, and rarely one it spilled to.
    expect(counts.filter((count) => count <= 2).length, `cold starts per action: ${counts.join(", ")}`).toBeGreaterThanOrEqual(ACTIONS - 1);

    // The actions are spread over the invokers (rendezvous hashing), not all kept on one.
    const health = await Promise.all(cluster.invokers.map((invoker) => invoker.health()));
    expect(health.filter((h) => h!.recorded > 0).length).toBeGreaterThanOrEqual(2);
  }, 120_000);
});
