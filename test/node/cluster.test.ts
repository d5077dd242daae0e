// The shared end-to-end scenarios and the fault cases against the Node host:
// two controllers and two invokers as separate processes on real PostgreSQL
// and NATS JetStream, driven by the real openwhisk client.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attackerScenarios, withWskadmin } from "../e2e/attacker.js";
import { fuzzScenarios } from "../e2e/fuzz.js";
import { actionScenarios, client, packageScenarios, triggerScenarios, webScenarios } from "../e2e/scenarios.js";
import { npmRunInBackground } from "../e2e/server.js";
import { startCluster, type HostProcess, type NodeCluster } from "./cluster.js";
import { testServices } from "./services.js";
import { until } from "../support/until.js";

const services = await testServices();

const unique = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
const SLEEP_JS = `function main(p) {
  return new Promise((resolve) => setTimeout(() => resolve({ slept: p.ms, tag: p.tag }), p.ms));
}`;
const SPIN_JS = "function main() { while (true) {} }";

describe.skipIf(!services)("Node host: 2 controllers and 2 invokers on PostgreSQL and NATS JetStream", () => {
  let cluster: NodeCluster;
  const ow = (i = 0) => client({ apihost: cluster.controllers[i].url });

  beforeAll(async () => {
    cluster = await startCluster(services!);
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  const target = () => ({ apihost: cluster.controllers[0].url });
  actionScenarios(target);
  packageScenarios(target);
  triggerScenarios(target);
  webScenarios(target);
  attackerScenarios(() =>
    withWskadmin(target(), (...args) => npmRunInBackground(["wskadmin", "--", ...args, "--database-url", cluster.databaseUrl], {})),
  );
  fuzzScenarios(() =>
    withWskadmin(target(), (...args) => npmRunInBackground(["wskadmin", "--", ...args, "--database-url", cluster.databaseUrl], {})),
  );

  it("lets an action call the platform's own API with its key", async () => {
    const name = unique("lister");
    await ow().actions.create({
      name,
      action: `async function main() {
        const res = await fetch(process.env.__OW_API_HOST + "/api/v1/namespaces/_/actions?limit=200", {
          headers: { authorization: "Basic " + btoa(process.env.__OW_API_KEY) },
        });
        const list = await res.json();
        return { status: res.status, names: list.map((a) => a.name) };
      }`,
      annotations: { "provide-api-key": true },
    });
    const result = await ow().actions.invoke({ name, blocking: true, result: true });
    expect(result).toMatchObject({ status: 200, names: expect.arrayContaining([name]) });
  });

  it("fires an alarm from one controller at a time, also while each controller in turn is killed", async () => {
    const [action, trigger, rule] = [unique("ticked"), unique("every2s"), unique("rule")];
    await ow().actions.create({ name: action, action: "function main(p) { return { tick: p.tick }; }" });
    await ow().triggers.create({ name: trigger });
    await ow().rules.create({ name: rule, action, trigger });
    await ow().feeds.create({ name: "/whisk.system/alarms/alarm", trigger, params: { cron: "*/2 * * * * *", trigger_payload: { tick: true } } });
    const fires = async () => (await ow().activations.list({ name: trigger, limit: 200, docs: true })) as unknown as { start: number }[];
    const fired = (atLeast: number) => until(async () => ((await fires()).length >= atLeast ? true : undefined), 20_000, `${atLeast} fires`);

    await fired(2);
    for (const controller of cluster.controllers) {
      const before = (await fires()).length;
      await controller.kill();
      await controller.start();
      await fired(before + 2);
    }
    await ow().feeds.delete({ name: "/whisk.system/alarms/alarm", trigger });
    const starts = (await fires()).map((a) => a.start).sort((a, b) => a - b);
    // One fire per 2-second tick: two replicas firing the same tick would land milliseconds apart.
    const gaps = starts.slice(1).map((start, i) => start - starts[i]);
    expect(Math.min(...gaps)).toBeGreaterThan(1_000);
    const ruleRuns = await ow().activations.list({ name: action, limit: 200 });
    expect(ruleRuns.length).toBeGreaterThanOrEqual(starts.length - 1);
  });

  it("times out an infinite loop with OpenWhisk's error, and that invoker keeps serving", async () => {
    const name = unique("spin");
    await ow().actions.create({ name, action: SPIN_JS, limits: { timeout: 1_000 } });
    await expect(ow().actions.invoke({ name, blocking: true })).rejects.toMatchObject({
      statusCode: 502,
      error: {
        response: {
          status: "action developer error",
          result: { error: "The action exceeded its time limits of 1000 milliseconds." },
        },
        annotations: expect.arrayContaining([{ key: "timeout", value: true }]),
      },
    });
    const health = await Promise.all(cluster.invokers.map((invoker) => invoker.health()));
    expect(health.map((h) => h?.restarts).reduce((a, b) => a! + b!, 0)).toBe(1);
    // Same name, same invoker: the one whose workerd child was killed.
    await ow().actions.update({ name, action: "function main() { return { spinning: false }; }" });
    expect(await ow().actions.invoke({ name, blocking: true, result: true })).toEqual({ spinning: false });
  });

  it("loses no accepted non-blocking activation when an invoker is killed mid-activation", async () => {
    const name = unique("slow");
    await ow().actions.create({ name, action: SLEEP_JS });
    const { activationId } = await ow().actions.invoke({ name, params: { ms: 3_000, tag: "survivor" } });
    const busy: HostProcess = await until(
      async () => {
        const health = await Promise.all(cluster.invokers.map((invoker) => invoker.health()));
        return cluster.invokers.find((_, i) => (health[i]?.inFlight ?? 0) > 0);
      },
      15_000,
      "an invoker to take the activation",
    );
    await busy.kill();
    try {
      const record = await until(() => ow(1).activations.get({ name: activationId }), 60_000, "the activation record");
      expect(record.response).toMatchObject({ success: true, result: { slept: 3_000, tag: "survivor" } });
      const listed = await ow(1).activations.list({ name, limit: 50 });
      expect(listed.filter((a: { activationId: string }) => a.activationId === activationId)).toHaveLength(1);
    } finally {
      await busy.start();
    }
  });

  it("loses no accepted activation when a controller is killed and restarted", async () => {
    const name = unique("steady");
    await ow().actions.create({ name, action: SLEEP_JS });
    const accepted = await Promise.all(
      [1, 2, 3, 4].map((n) => ow(0).actions.invoke({ name, params: { ms: 1_000, tag: `n${n}` } })),
    );
    const controller = cluster.controllers[0];
    await controller.kill();
    await controller.start();
    for (const [i, { activationId }] of accepted.entries()) {
      const record = await until(() => ow(i % 2).activations.get({ name: activationId }), 60_000, `activation ${i + 1}`);
      expect(record.response?.result).toEqual({ slept: 1_000, tag: `n${i + 1}` });
    }
    expect(await ow(0).actions.invoke({ name, blocking: true, result: true, params: { ms: 1, tag: "after" } })).toEqual({
      slept: 1,
      tag: "after",
    });
  });
});
