// The attacker suite: a tenant's own action, and anonymous callers, trying
// each path from one namespace into another's code, data, keys or capacity,
// through the real `openwhisk` client. One file, run against every host
// (test/e2e/cloudflare.test.ts, test/node/cluster.test.ts); each case
// asserts that the attempt is refused and the victim's state is unchanged.
import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, GUEST_KEY, OTHER_KEY, OTHER_NAMESPACE, type Target } from "./scenarios.js";

/** What a host under test offers beyond its API URL. */
export interface AttackTarget extends Target {
  /** Removes a subject as `wskadmin user delete` does. */
  deleteSubject?: (uuid: string) => Promise<void>;
  /** Adds a subject as `wskadmin user create --auth` does. */
  createSubject?: (namespace: string, auth: string) => Promise<void>;
  /** Sets a namespace's limits as `wskadmin limits set` does. */
  setLimits?: (namespace: string, limits: Record<string, number>) => Promise<void>;
}

/** A host's target with an operator's hands: `wskadmin` runs the real wskadmin against the host's database. */
export function withWskadmin(base: Target, wskadmin: (...args: string[]) => Promise<unknown>): AttackTarget {
  return {
    ...base,
    createSubject: async (namespace, auth) => void (await wskadmin("user", "create", namespace, "--auth", auth)),
    deleteSubject: async (uuid) => void (await wskadmin("user", "delete", uuid)),
    setLimits: async (namespace, limits) =>
      void (await wskadmin("limits", "set", namespace, ...Object.entries(limits).flatMap(([field, value]) => [`--${field}`, String(value)]))),
  };
}

/** A fresh key (uuid:key) for a namespace made by the test. */
const freshKey = () =>
  `5a1b2c3d-0000-4000-8000-${Math.floor(Math.random() * 2 ** 48).toString(16).padStart(12, "0")}:${"k".repeat(64)}`;

const unique = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 8)}`;

/** An action that tries a list of URLs and reports what each attempt got. */
const PROBE_FETCH = `async function main(p) {
  const out = {};
  for (const url of p.urls) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
      out[url] = "status " + res.status + ": " + (await res.text()).slice(0, 120);
    } catch (err) {
      out[url] = "refused: " + (err && err.message ? err.message : String(err));
    }
  }
  return out;
}`;

/** An action that opens raw TCP to host:port and writes a line, as a database client would. */
const PROBE_CONNECT = `import { connect } from "cloudflare:sockets";
export async function main(p) {
  try {
    const socket = connect({ hostname: p.hostname, port: p.port });
    socket.closed.catch(() => {});
    await socket.opened;
    const writer = socket.writable.getWriter();
    await Promise.race([
      writer.write(new TextEncoder().encode("PING from another tenant\\r\\n")),
      new Promise((_, reject) => setTimeout(() => reject(new Error("write timed out")), 3000)),
    ]);
    const reader = socket.readable.getReader();
    const read = await Promise.race([reader.read(), new Promise((resolve) => setTimeout(() => resolve({ timeout: true }), 1000))]);
    await socket.close().catch(() => {});
    return { connected: true, read: read.timeout ? "nothing" : "bytes" };
  } catch (err) {
    return { connected: false, reason: String(err && err.message ? err.message : err) };
  }
}`;

/** Refused or unanswered: anything but a response from the address. */
const refused = (outcome: string) => !outcome.startsWith("status ") || /^status 403: .*not allowed/i.test(outcome);

export function attackerScenarios(target: () => AttackTarget) {
  describe("attacker: one namespace against another", () => {
    const victim = () => client(target(), GUEST_KEY);
    const attacker = () => client(target(), OTHER_KEY);

    it("leaves no module global of one namespace for another caller of a shared action", async () => {
      const pkg = unique("shared");
      await victim().packages.create({ name: pkg, package: { publish: true } });
      await victim().actions.create({
        name: `${pkg}/keeper`,
        action: `let note = null;
          function main(p) { const previous = note; if (p.note) note = p.note; return { previous, ns: process.env.__OW_NAMESPACE }; }`,
      });
      const shared = `/guest/${pkg}/keeper`;
      const planted = await attacker().actions.invoke({ name: shared, blocking: true, result: true, params: { note: "left by other" } });
      expect(planted).toEqual({ previous: null, ns: OTHER_NAMESPACE });
      const read = await victim().actions.invoke({ name: shared, blocking: true, result: true, params: {} });
      expect(read).toEqual({ previous: null, ns: "guest" });
    });

    it("keeps __OW_ values, the API key included, to their own activation across awaits", async () => {
      const name = unique("envwatch");
      await victim().actions.create({
        name,
        action: `async function main(p) {
          const before = process.env.__OW_ACTIVATION_ID;
          await new Promise((resolve) => setTimeout(resolve, p.wait));
          return { before, after: process.env.__OW_ACTIVATION_ID, key: process.env.__OW_API_KEY ?? null };
        }`,
        limits: { concurrency: 4 },
        annotations: { "provide-api-key": false },
      });
      const runs = await Promise.all(
        [400, 50, 200, 100].map((wait) => victim().actions.invoke({ name, blocking: true, params: { wait } })),
      );
      for (const run of runs) {
        expect(run.response?.result).toEqual({ before: run.activationId, after: run.activationId, key: null });
      }
    });

    it("refuses an action's HTTP to loopback, private and metadata addresses", async () => {
      const name = unique("ssrf");
      await attacker().actions.create({ name, action: PROBE_FETCH });
      const { port } = new URL(target().apihost);
      // The server's own port by another loopback name than the API host's, and addresses nobody should reach.
      const urls = [
        `http://127.0.0.2:${port}/api/v1/namespaces/guest/actions`,
        `http://localhost:${port}/api/v1`,
        `http://[::1]:${port}/api/v1`,
        "http://169.254.169.254/latest/meta-data/",
        "http://10.255.255.1/",
        "http://192.168.255.254/",
      ];
      const result = await attacker().actions.invoke({ name, blocking: true, result: true, params: { urls } });
      for (const url of urls) expect(refused(result[url]), `${url}: ${result[url]}`).toBe(true);
    });

    describe("raw TCP to loopback", () => {
      let server: Server;
      let port = 0;
      let connections = 0;
      beforeAll(async () => {
        server = createServer((socket) => {
          connections++;
          socket.end("HELLO FROM A PRIVATE SERVICE\r\n");
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        port = (server.address() as { port: number }).port;
      });
      afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

      it("never lets connect() reach a loopback port (a database, NATS, the invoker)", async () => {
        const name = unique("tcp");
        await attacker().actions.create({ name, action: PROBE_CONNECT });
        const result = await attacker().actions.invoke({ name, blocking: true, result: true, params: { hostname: "127.0.0.1", port } });
        expect(result).toMatchObject({ connected: false });
        expect(connections).toBe(0);
      });
    });

    it("charges anonymous web requests for missing actions to nobody", async () => {
      const base = `${target().apihost}/api/v1/web/${OTHER_NAMESPACE}/default`;
      // More than a stock namespace's 120 invocations a minute.
      const answers = await Promise.all(
        Array.from({ length: 130 }, (_, i) => fetch(`${base}/no-such-action-${i}.json`).then((res) => res.status)),
      );
      expect(new Set(answers)).toEqual(new Set([404]));
      const name = unique("owner");
      await attacker().actions.create({ name, action: "function main() { return { ok: true } }" });
      expect(await attacker().actions.invoke({ name, blocking: true, result: true })).toEqual({ ok: true });
    });

    it("holds a namespace to its concurrentInvocations, and one namespace's burst leaves another's invokes alone", async (ctx) => {
      const t = target();
      if (!t.createSubject || !t.setLimits) return ctx.skip();
      const namespace = unique("burst");
      const key = freshKey();
      await t.createSubject(namespace, key);
      await t.setLimits(namespace, { concurrentInvocations: 2 });
      const burster = client(t, key);
      const name = unique("sleep");
      await burster.actions.create({ name, action: "function main(p) { return new Promise((r) => setTimeout(() => r({ ok: true }), p.ms)); }" });
      const victimName = unique("steady");
      await victim().actions.create({ name: victimName, action: "function main() { return { steady: true } }" });

      const burst = Array.from({ length: 4 }, () =>
        burster.actions.invoke({ name, blocking: true, result: true, params: { ms: 1_500 } }).then(
          (result) => ({ ok: result }),
          (err) => ({ status: err.statusCode as number, message: String(err.message) }),
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await victim().actions.invoke({ name: victimName, blocking: true, result: true })).toEqual({ steady: true });
      const outcomes = await Promise.all(burst);
      const refused = outcomes.filter((o) => "status" in o);
      expect(outcomes.filter((o) => "ok" in o)).toHaveLength(2);
      expect(refused).toHaveLength(2);
      for (const o of refused) {
        expect(o).toMatchObject({ status: 429 });
        expect((o as { message: string }).message).toMatch(/Too many concurrent requests in flight \(count: 2, allowed: 2\)\./);
      }
      // Places come back when activations end.
      expect(await burster.actions.invoke({ name, blocking: true, result: true, params: { ms: 1 } })).toEqual({ ok: true });
    });

    it("stops honouring a deleted key within 2 seconds", async (ctx) => {
      const t = target();
      if (!t.deleteSubject || !t.createSubject) return ctx.skip();
      const key = freshKey();
      await t.createSubject(unique("doomed"), key);
      const doomed = client(t, key);
      expect(Array.isArray(await doomed.actions.list())).toBe(true);
      await t.deleteSubject(key.split(":")[0]);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      await expect(doomed.actions.list()).rejects.toMatchObject({ statusCode: 401 });
    });
  });
}
