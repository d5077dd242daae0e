// The operations signals of the Node host, as separate processes on real
// PostgreSQL and NATS: /metrics counting what happens on each role, /readyz,
// and the SIGTERM drain that lets work in hand finish before a 0 exit.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, OTHER_KEY, OTHER_NAMESPACE } from "../e2e/scenarios.js";
import { createPool, PostgresSql } from "../../src/node/postgres.js";
import { SqlStore } from "../../src/store/sql-store.js";
import { startCluster, type HostProcess, type NodeCluster } from "./cluster.js";
import { testServices } from "./services.js";
import { until } from "../support/until.js";

const services = await testServices();

const unique = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
const SLEEP_JS = `function main(p) {
  return new Promise((resolve) => setTimeout(() => resolve({ slept: p.ms }), p.ms));
}`;

/** One scrape: the sum of a metric's samples whose labels include `labels`. */
type Scrape = (name: string, labels?: Record<string, string>) => number;

async function scrape(process: HostProcess): Promise<Scrape> {
  const res = await fetch(`${process.opsUrl}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/plain");
  const text = await res.text();
  const samples = text
    .split("\n")
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`not a Prometheus sample: ${line}`);
      const labels = Object.fromEntries([...(match[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
      return { name: match[1], labels, value: Number(match[3]) };
    });
  return (name, labels = {}) =>
    samples
      .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
      .reduce((sum, s) => sum + s.value, 0);
}

const status = (url: string) => fetch(url).then((res) => res.status);

describe.skipIf(!services)("Node host operations: /metrics, /readyz and the SIGTERM drain", () => {
  let cluster: NodeCluster;
  const ow = (i = 0, key?: string) => client({ apihost: cluster.controllers[i].url }, key);

  beforeAll(async () => {
    cluster = await startCluster(services!, { controllers: 2, invokers: 1 });
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  it("serves /readyz and /metrics on both roles without the invoker secret", async () => {
    for (const process of [...cluster.controllers, ...cluster.invokers]) {
      expect(await status(`${process.opsUrl}/readyz`)).toBe(200);
      const metrics = await scrape(process);
      // prom-client's process metrics come along.
      expect(metrics("process_cpu_seconds_total")).toBeGreaterThan(0);
    }
    // The controllers' API port is the public load balancer's: it serves neither.
    for (const controller of cluster.controllers) {
      expect(controller.opsUrl).not.toBe(controller.url);
      for (const path of ["/metrics", "/readyz"]) {
        const res = await fetch(`${controller.url}${path}`);
        expect(res.status, path).toBe(404);
        expect(await res.text(), path).not.toMatch(/edgewhisk_|inFlight/);
      }
      expect(await status(`${controller.url}/healthz`)).toBe(200);
    }
    // The invoker's own routes still want the secret.
    expect((await fetch(`${cluster.invokers[0].url}/invoke`, { method: "POST", body: "{}" })).status).toBe(401);
  });

  it("counts activations by outcome and kind, their durations cold and warm, and the queue", async () => {
    const [controller] = cluster.controllers;
    const [invoker] = cluster.invokers;
    const name = unique("counted");
    await ow().actions.create({ name, action: "function main(p) { if (p.fail) return { error: 'asked to' }; return { ok: true }; }" });
    const before = await scrape(invoker);
    const queueBefore = await scrape(controller);
    expect(Number.isNaN(queueBefore("edgewhisk_queue_pending"))).toBe(false);

    await ow().actions.invoke({ name, blocking: true });
    await ow().actions.invoke({ name, blocking: true });
    await expect(ow().actions.invoke({ name, blocking: true, params: { fail: true } })).rejects.toMatchObject({ statusCode: 502 });
    const { activationId } = await ow().actions.invoke({ name });
    await until(() => ow().activations.get({ name: activationId }), 30_000, "the non-blocking activation's record");

    const after = await scrape(invoker);
    const moved = (metric: string, labels?: Record<string, string>) => after(metric, labels) - before(metric, labels);
    expect(moved("edgewhisk_activations_total", { outcome: "success", kind: "nodejs:20" })).toBe(3);
    expect(moved("edgewhisk_activations_total", { outcome: "application_error", kind: "nodejs:20" })).toBe(1);
    expect(moved("edgewhisk_invoke_duration_seconds_count", { start: "cold" })).toBe(1);
    expect(moved("edgewhisk_invoke_duration_seconds_count", { start: "warm" })).toBe(3);
    expect(moved("edgewhisk_invoke_duration_seconds_bucket", { start: "warm", le: "+Inf" })).toBe(3);
    expect(after("edgewhisk_warm_isolates")).toBeGreaterThanOrEqual(1);
    expect(after("edgewhisk_workerd_restarts_total")).toBe(0);
    expect(after("edgewhisk_workerd_rotations_total")).toBe(0);
    // Idle again: every slot it announces is free (INVOKER_CONCURRENCY defaults to 32).
    expect(after("edgewhisk_invoker_slots")).toBe(32);
    expect(after("edgewhisk_invoker_free_slots")).toBe(32);
    // Nothing waits: the one message queued has been taken and acknowledged.
    expect((await scrape(controller))("edgewhisk_queue_pending")).toBe(0);
  });

  it("counts a 429 under the limit that refused it", async () => {
    const pool = createPool(cluster.databaseUrl, 1);
    try {
      await new SqlStore(new PostgresSql(pool)).putNamespaceLimits(OTHER_NAMESPACE, { invocationsPerMinute: 0 });
    } finally {
      await pool.end();
    }
    const [controller] = cluster.controllers;
    const before = await scrape(controller);
    const other = ow(0, OTHER_KEY);
    const name = unique("refused");
    await other.actions.create({ name, action: "function main() { return {}; }" });
    await expect(other.actions.invoke({ name, blocking: true })).rejects.toMatchObject({ statusCode: 429 });
    const after = await scrape(controller);
    expect(after("edgewhisk_throttled_total", { limit: "invocationsPerMinute" }) - before("edgewhisk_throttled_total", { limit: "invocationsPerMinute" })).toBe(1);
    expect(after("edgewhisk_throttled_total", { limit: "concurrentInvocations" })).toBe(before("edgewhisk_throttled_total", { limit: "concurrentInvocations" }));
  });

  it("drains a controller on SIGTERM: not ready at once, its blocking invoke still answered, then exit 0", async () => {
    const draining = cluster.controllers[1];
    const name = unique("slow");
    await ow(1).actions.create({ name, action: SLEEP_JS });
    const answer = ow(1).actions.invoke({ name, blocking: true, result: true, params: { ms: 3_000 } });
    await until(async () => ((await cluster.invokers[0].health())?.inFlight ?? 0) > 0 || undefined, 15_000, "the invoke to reach the invoker");
    let answered = false;
    void answer.finally(() => (answered = true)).catch(() => {});
    const exited = draining.signal("SIGTERM");
    await until(async () => ((await status(`${draining.opsUrl}/readyz`)) === 503 ? true : undefined), 2_000, "readiness to turn off");
    // Still listening, and still not ready, for as long as the invoke is in flight.
    const probes: (number | string)[] = [];
    while (!answered) {
      probes.push(await status(`${draining.opsUrl}/readyz`).catch((err: Error) => err.message));
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(probes.length).toBeGreaterThan(3);
    expect(new Set(probes)).toEqual(new Set([503]));
    expect(await answer).toEqual({ slept: 3_000 });
    const answeredAt = Date.now();
    expect(await exited).toBe(0);
    // Promptly: idle keep-alive connections do not hold the exit for their timeout.
    expect(Date.now() - answeredAt).toBeLessThan(2_000);
  });

  it("drains an invoker on SIGTERM: not ready, refuses new runs with 503, finishes the one in hand, then exit 0", async () => {
    const [invoker] = cluster.invokers;
    const name = unique("slow");
    await ow().actions.create({ name, action: SLEEP_JS });
    const answer = ow().actions.invoke({ name, blocking: true, result: true, params: { ms: 3_000 } });
    await until(async () => ((await invoker.health())?.inFlight ?? 0) > 0 || undefined, 15_000, "the invoker to take the activation");
    const exited = invoker.signal("SIGTERM");
    await until(async () => ((await status(`${invoker.url}/readyz`)) === 503 ? true : undefined), 2_000, "readiness to turn off");
    // Alive all the same: liveness must not restart a pod that drains.
    expect(await status(`${invoker.url}/healthz`)).toBe(200);
    const refused = await fetch(`${invoker.url}/invoke`, {
      method: "POST",
      headers: { authorization: `Bearer ${cluster.invokerSecret}`, "content-type": "application/json" },
      body: "{}",
    });
    expect(refused.status).toBe(503);
    expect(await answer).toEqual({ slept: 3_000 });
    const answeredAt = Date.now();
    expect(await exited).toBe(0);
    // Promptly: idle keep-alive connections do not hold the exit for their timeout.
    expect(Date.now() - answeredAt).toBeLessThan(2_000);
  });
});
