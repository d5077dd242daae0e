// The walls around action code on the Node host, tried as an attacker
// would. First one workerd child on its own, against servers on loopback
// standing in for platform components: what an isolate's fetch() and
// connect() reach, and that its API host goes to the controllers whatever
// it resolves to. Then a running controller and invoker: the invoker's API
// refuses calls without INVOKER_SECRET, whether they come from an action in
// another namespace or from anything else that can reach the port.
import http from "node:http";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { egressAllowance, invokerConfig } from "../../src/node/config.js";
import { runnerSource } from "../../src/node/runner-source.js";
import { configText } from "../../src/node/workerd/child.js";
import { WorkerdSupervisor } from "../../src/node/workerd/supervisor.js";
import { actionModules } from "../../src/runtime/modules.js";
import type { RunRequest } from "../../src/runtime/protocol.js";
import { client, GUEST_KEY, OTHER_KEY } from "../e2e/scenarios.js";
import { startCluster, type NodeCluster } from "./cluster.js";
import { testServices } from "./services.js";

const services = await testServices();

/** Tries each fetch and connect it is given and reports what came back; never throws. */
const PROBE = `import { connect } from "cloudflare:sockets";
const within = (ms, promise) =>
  Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error("timed out")), ms))]);
async function tryFetch({ url, method, headers, body }) {
  const started = Date.now();
  try {
    const res = await within(2000, fetch(url, { method, headers, body }));
    return { url, status: res.status, text: (await res.text()).slice(0, 2000), ms: Date.now() - started };
  } catch (err) {
    return { url, error: String(err && err.message ? err.message : err), ms: Date.now() - started };
  }
}
async function tryConnect({ hostname, port, send }) {
  let socket;
  try {
    socket = connect({ hostname, port });
    await within(2000, socket.opened);
    if (send) {
      const writer = socket.writable.getWriter();
      await within(2000, writer.write(Uint8Array.from(send)));
      writer.releaseLock();
    }
    const read = await within(1000, socket.readable.getReader().read());
    const text = read.value ? new TextDecoder().decode(read.value).slice(0, 80) : "";
    return { hostname, port, bytes: read.value ? read.value.length : 0, text, closed: read.done };
  } catch (err) {
    return { hostname, port, bytes: 0, error: String(err && err.message ? err.message : err) };
  } finally {
    if (socket) socket.close().catch(() => {});
  }
}
export async function main(p) {
  const fetches = [];
  for (const f of p.fetches || []) fetches.push(await tryFetch(typeof f === "string" ? { url: f } : f));
  const sockets = [];
  for (const s of p.sockets || []) sockets.push(await tryConnect(s));
  return { fetches, sockets, apiHost: process.env.__OW_API_HOST };
}`;

interface Fetched {
  url: string;
  status?: number;
  text?: string;
  error?: string;
  ms: number;
}
interface Connected {
  hostname: string;
  port: number;
  bytes: number;
  text?: string;
  /** Closed before a byte came (a refused connect() through the gateway may look opened until then). */
  closed?: boolean;
  error?: string;
}
interface Probed {
  fetches: Fetched[];
  sockets: Connected[];
  apiHost: string;
}

/** What an HTTP server on loopback saw. */
interface Recorder {
  port: number;
  seen: { host?: string; url?: string; method?: string }[];
  close(): Promise<void>;
}

function httpServer(host: string, handle: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<Recorder> {
  const seen: Recorder["seen"] = [];
  const server = http.createServer((req, res) => {
    seen.push({ host: req.headers.host, url: req.url, method: req.method });
    handle(req, res);
  });
  return new Promise((resolve) =>
    server.listen(0, host, () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        seen,
        close: () => new Promise((done) => server.close(() => done())),
      }),
    ),
  );
}

/** A TCP server that greets every connection, as NATS does; `connections` counts them. */
function tcpServer(host: string, banner: string): Promise<{ port: number; connections: () => number; close(): Promise<void> }> {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    socket.on("error", () => undefined);
    socket.end(banner);
  });
  return new Promise((resolve) =>
    server.listen(0, host, () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        connections: () => connections,
        close: () => new Promise((done) => server.close(() => done())),
      }),
    ),
  );
}

const refused = (f: Fetched) => f.status === undefined;
/** Nothing came back: an error, or a socket closed without a byte. */
const unconnected = (s: Connected) => s.bytes === 0 && (s.error !== undefined || s.closed === true);

describe("EGRESS_ALLOW", () => {
  it("takes CIDRs, addresses and host[:port], as the Cloudflare host does", () => {
    expect(egressAllowance(" 10.20.0.0/16, 192.0.2.7 ,db.internal:5432,[FD00::5]:6379, 2001:db8::/32, DB.Example.com")).toEqual({
      cidrs: ["10.20.0.0/16", "192.0.2.7/32", "2001:db8::/32"],
      destinations: ["db.internal:5432", "[fd00::5]:6379", "db.example.com"],
    });
    expect(egressAllowance(undefined)).toEqual({ cidrs: [], destinations: [] });
  });

  it("never opens loopback, metadata or a component of the platform", () => {
    for (const bad of ["127.0.0.1:5432", "localhost", "[::1]:80", "169.254.169.254", "fd00:ec2::254", "0.0.0.0/0", "10.0.0.0/33", "http://db:5432"]) {
      expect(() => egressAllowance(bad), bad).toThrow(/EGRESS_ALLOW entry/);
    }
    const platform = ["postgres://edgewhisk:pw@postgres:5432/edgewhisk", "http://controller:80", "http://invoker-0.invoker:8080"];
    for (const bad of ["postgres:5432", "postgres", "controller", "invoker-0.invoker:8080"]) {
      expect(() => egressAllowance(bad, platform), bad).toThrow(/a component of the platform/);
    }
    expect(egressAllowance("postgres:6543", platform).destinations).toEqual(["postgres:6543"]);
  });

  it("denies EGRESS_DENY and the addresses of the invoker's own components", () => {
    const env = {
      DATABASE_URL: "postgres://edgewhisk:pw@postgres:5432/edgewhisk",
      NATS_URL: "nats://edgewhisk:pw@nats:4222",
      INVOKER_ADVERTISE_URL: "http://invoker-0.invoker:8080",
      INVOKER_SECRET: "x".repeat(64),
      CONTROLLER_URL: "http://controller:80",
      EGRESS_DENY: "34.118.224.0/20, 192.0.2.9",
      KUBERNETES_SERVICE_HOST: "34.118.224.1",
    };
    const config = invokerConfig(env);
    expect(config.egressDeny).toEqual(["34.118.224.0/20", "192.0.2.9/32"]);
    expect(config.platformHosts).toEqual(["postgres", "nats", "controller", "invoker-0.invoker", "34.118.224.1"]);
    expect(() => invokerConfig({ ...env, EGRESS_ALLOW: "nats:4222" })).toThrow(/a component of the platform/);
    expect(() => invokerConfig({ ...env, EGRESS_DENY: "db.internal:5432" })).toThrow(/EGRESS_DENY entry/);
    expect(() => invokerConfig({ ...env, INVOKER_SECRET: "short" })).toThrow(/INVOKER_SECRET/);
    expect(() => invokerConfig({ ...env, INVOKER_SECRET: "" })).toThrow(/missing environment: INVOKER_SECRET/);
  });

  it("leaves denied what workerd's \"public\" lets through, unless an EGRESS_ALLOW block reopens it", () => {
    const internet = (allow: string[], deny: string[] = []) =>
      /name = "internet", network = \(allow = (\[.*?\]), deny = (\[.*?\])/.exec(configText("/s", "2026-08-01", { allow: { cidrs: allow, destinations: [] }, deny }))!;
    const [, allow, deny] = internet(["10.20.0.0/16"], ["34.118.224.0/20"]);
    expect(JSON.parse(allow)).toEqual(["public", "10.20.0.0/16"]);
    const denied: string[] = JSON.parse(deny);
    for (const cidr of ["169.254.0.0/16", "192.0.2.0/24", "198.18.0.0/15", "203.0.113.0/24", "2001:db8::/32", "::/96", "34.118.224.0/20", "172.16.0.0/12"]) {
      expect(denied, cidr).toContain(cidr);
    }
    expect(denied).not.toContain("10.0.0.0/8");
    expect(JSON.parse(internet([])[2])).toContain("10.0.0.0/8");
  });
});

describe("an action isolate's network (one workerd child)", () => {
  // `component`: anything of the platform's on loopback (an invoker, PostgreSQL's host...).
  let component: Recorder;
  let controller: Recorder;
  let named: Recorder;
  let cidr: Recorder;
  let platformAddress: Recorder;
  let database: Awaited<ReturnType<typeof tcpServer>>;
  let namedTcp: Awaited<ReturnType<typeof tcpServer>>;
  let supervisor: WorkerdSupervisor;

  beforeAll(async () => {
    // Listening on every interface: 127.0.0.1, ::1 and IPv4-mapped forms all reach it, were they let through.
    component = await httpServer("::", (_req, res) => res.end("a platform component answered"));
    controller = await httpServer("127.0.0.1", (req, res) => res.end(JSON.stringify({ controller: true, host: req.headers.host, url: req.url })));
    cidr = await httpServer("127.0.0.2", (_req, res) => res.end("opened by CIDR"));
    platformAddress = await httpServer("127.0.0.3", (_req, res) => res.end("a component at a denied address answered"));
    named = await httpServer("127.0.0.1", (req, res) => {
      if (req.url === "/redirect") {
        res.writeHead(302, { location: `http://127.0.0.1:${component.port}/` }).end();
      } else res.end("opened by name");
    });
    database = await tcpServer("::", "DATABASE BANNER\n");
    namedTcp = await tcpServer("127.0.0.1", "NAMED BANNER\n");
    supervisor = new WorkerdSupervisor({
      memoryLimitMb: 400,
      egress: {
        controllerUrl: `http://127.0.0.1:${controller.port}`,
        // What EGRESS_ALLOW's "127.0.0.2/32,127.0.0.1:<port>,..." would give, were
        // loopback allowed there (it is not): the only addresses tests may use.
        allow: { cidrs: ["127.0.0.2/31"], destinations: [`127.0.0.1:${named.port}`, `127.0.0.1:${namedTcp.port}`] },
        // As EGRESS_DENY, or a platform component's address, would: denied inside an opened block.
        deny: ["127.0.0.3/32"],
      },
    });
    await supervisor.start();
  });

  afterAll(async () => {
    await supervisor?.stop();
    for (const server of [component, controller, named, cidr, platformAddress, database, namedTcp]) await server?.close();
  });

  async function probe(apiHost: string, params: { fetches?: unknown[]; sockets?: unknown[] }): Promise<Probed> {
    const request: RunRequest = {
      params,
      initEnv: {},
      mainName: "main",
      activationId: "a".repeat(32),
      transactionId: "t",
      namespace: "other",
      actionName: "/other/probe",
      actionVersion: "0.0.1",
      apiHost,
      deadline: Date.now() + 20_000,
      logLimitBytes: 1024 * 1024,
    };
    const spec = {
      key: "probe",
      memoryMb: 256,
      timeoutMs: 20_000,
      build: async () => actionModules(runnerSource, { code: PROBE, binary: false, main: "main" }),
    };
    const { reply } = await supervisor.run(spec, request);
    if (reply.outcome !== "result") throw new Error(`probe failed: ${JSON.stringify(reply)}`);
    return reply.result as unknown as Probed;
  }

  it("sends requests to the API host to the controllers, never to where the API host points", async () => {
    // The API host as a caller's Host header could set it: the platform component's own port.
    const apiHost = `http://localhost:${component.port}`;
    const { fetches } = await probe(apiHost, { fetches: [`${apiHost}/api/v1/namespaces/_/actions?limit=1`] });
    expect(fetches[0]).toMatchObject({ status: 200 });
    expect(JSON.parse(fetches[0].text!)).toEqual({ controller: true, host: `localhost:${component.port}`, url: "/api/v1/namespaces/_/actions?limit=1" });
    expect(component.seen).toEqual([]);
  });

  it("refuses fetch() to loopback, private, link-local and metadata addresses, in every spelling", async () => {
    const port = component.port;
    const urls = [
      `http://127.0.0.1:${port}/`,
      `http://localhost:${port}/`,
      `http://[::1]:${port}/`,
      `http://[::ffff:127.0.0.1]:${port}/`,
      `http://127.1:${port}/`,
      `http://0.0.0.0:${port}/`,
      `http://2130706433:${port}/`,
      `http://127.0.0.3:${port}/`,
      "http://169.254.169.254/latest/meta-data/",
      "http://[fd00:ec2::254]/latest/meta-data/",
      "http://100.64.0.1/",
      "http://10.0.0.1/",
      "http://172.16.0.1/",
      "http://192.168.0.1/",
      "http://[fd00::1]/",
      "http://[fe80::1]/",
    ];
    const { fetches } = await probe("http://api.edgewhisk.test", { fetches: urls });
    for (const f of fetches) {
      expect(refused(f), `${f.url}: ${JSON.stringify(f)}`).toBe(true);
      // Refused by the filter (and told so), not left to time out where nothing routes.
      expect(f.error, f.url).toMatch(/is not reachable from actions/);
    }
    expect(component.seen).toEqual([]);
  });

  it("refuses connect() to loopback and metadata addresses before a byte is exchanged", async () => {
    const sockets = [
      { hostname: "127.0.0.1", port: database.port },
      { hostname: "localhost", port: database.port },
      { hostname: "::1", port: database.port },
      { hostname: "127.0.0.1", port: component.port, send: [...Buffer.from("GET / HTTP/1.0\r\n\r\n")] },
      { hostname: "169.254.169.254", port: 80 },
    ];
    const { sockets: results } = await probe("http://api.edgewhisk.test", { sockets });
    for (const s of results) expect(unconnected(s), JSON.stringify(s)).toBe(true);
    expect(database.connections()).toBe(0);
    expect(component.seen).toEqual([]);
  });

  it("opens exactly what EGRESS_ALLOW names, but denied addresses inside it, and no redirect out of it", async () => {
    const { fetches, sockets } = await probe("http://api.edgewhisk.test", {
      fetches: [
        `http://127.0.0.2:${cidr.port}/`,
        `http://127.0.0.1:${named.port}/`,
        `http://127.0.0.1:${named.port}/redirect`,
        `http://127.0.0.3:${platformAddress.port}/`,
      ],
      sockets: [{ hostname: "127.0.0.1", port: namedTcp.port }],
    });
    expect(fetches[0]).toMatchObject({ status: 200, text: "opened by CIDR" });
    expect(fetches[1]).toMatchObject({ status: 200, text: "opened by name" });
    expect(refused(fetches[2]), JSON.stringify(fetches[2])).toBe(true);
    expect(refused(fetches[3]), JSON.stringify(fetches[3])).toBe(true);
    expect(platformAddress.seen).toEqual([]);
    expect(named.seen.map((s) => s.url)).toEqual(["/", "/redirect"]);
    expect(sockets[0]).toMatchObject({ text: "NAMED BANNER\n" });
    expect(component.seen).toEqual([]);
  });
});

describe.skipIf(!services)("the Node host's invokers and the actions they run", () => {
  const API_HOST = "http://api.edgewhisk.test";
  let cluster: NodeCluster;
  const guest = () => client({ apihost: cluster.controllers[0].url }, GUEST_KEY);
  const other = () => client({ apihost: cluster.controllers[0].url }, OTHER_KEY);
  const unique = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
  const victim = unique("victim");
  const invokerUrl = () => cluster.invokers[0].url;

  /** A complete request to run guest's action as guest, as only a controller should be able to send. */
  const forged = (activationId: string) => ({
    activationId,
    transactionId: "forged",
    action: { namespace: "guest", name: victim },
    identity: { subject: "guest", namespace: "guest", uuid: GUEST_KEY.split(":")[0], authKey: "forged" },
    params: {},
    receivedAt: Date.now(),
    apiHost: API_HOST,
  });
  const activationId = () => crypto.randomUUID().replaceAll("-", "");
  const recorded = async (id: string) => {
    try {
      await guest().activations.get({ name: id });
      return true;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return false;
      throw err;
    }
  };

  beforeAll(async () => {
    cluster = await startCluster(services!, { controllers: 1, invokers: 1, controllerEnv: { API_HOST } });
    await guest().actions.create({
      name: victim,
      action: "function main(p) { return { secret: p.secret } }",
      params: { secret: "guest's bound secret" },
    });
    await other().actions.create({ name: "probe", action: { exec: { kind: "nodejs:default", code: PROBE } } as never });
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  const post = (path: string, body: unknown, authorization?: string) =>
    fetch(`${invokerUrl()}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
      body: JSON.stringify(body),
    });

  it("answers 401 and runs nothing without the invoker secret or with a wrong one; runs with it", async () => {
    const [none, wrong, right] = [activationId(), activationId(), activationId()];
    expect((await post("/invoke", forged(none))).status).toBe(401);
    expect((await post("/invoke", forged(wrong), `Bearer ${"0".repeat(64)}`)).status).toBe(401);
    expect((await post("/invoke", forged(wrong), cluster.invokerSecret)).status).toBe(401);
    expect((await post("/invoke-web", { ...forged(wrong) })).status).toBe(401);
    expect((await post("/invalidate", { refs: [] })).status).toBe(401);
    expect((await post("/announce", { ref: { namespace: "guest", name: "x" } })).status).toBe(401);
    expect((await fetch(`${invokerUrl()}/healthz`)).status).toBe(200);
    // The same request with the secret is one an invoker runs: the refusals above are the wall.
    const ran = await post("/invoke", forged(right), `Bearer ${cluster.invokerSecret}`);
    expect(ran.status).toBe(200);
    expect(await ran.json()).toMatchObject({ record: { response: { result: { secret: "guest's bound secret" } } } });
    expect(await recorded(right)).toBe(true);
    expect(await recorded(none)).toBe(false);
    expect(await recorded(wrong)).toBe(false);
  });

  it("refuses another namespace's action that calls the invoker's API as guest", async () => {
    const id = activationId();
    const body = JSON.stringify(forged(id));
    const { port } = new URL(invokerUrl());
    const { fetches } = (await other().actions.invoke({
      name: "probe",
      blocking: true,
      result: true,
      params: {
        fetches: [`http://127.0.0.1:${port}/invoke`, `http://localhost:${port}/invoke`, `http://[::1]:${port}/invoke`].map((url) => ({
          url,
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        })),
      },
    })) as Probed;
    for (const f of fetches) expect(refused(f) || f.status === 401 || f.status === 403, JSON.stringify(f)).toBe(true);
    expect(JSON.stringify(fetches)).not.toContain("guest's bound secret");
    expect(await recorded(id)).toBe(false);
  });

  it("refuses an action's HTTP to the controller, PostgreSQL and metadata by address, and raw TCP to PostgreSQL and NATS", async () => {
    const { port: controllerPort } = new URL(cluster.controllers[0].url);
    const postgresPort = Number(new URL(services!.databaseUrl).port || 5432);
    const natsPort = Number(new URL(services!.natsUrl).port || 4222);
    // PostgreSQL's SSLRequest, which it answers with one byte; NATS greets every connection.
    const sslRequest = [0, 0, 0, 8, 4, 210, 22, 47];
    const { fetches, sockets } = (await other().actions.invoke({
      name: "probe",
      blocking: true,
      result: true,
      params: {
        fetches: [
          `http://127.0.0.1:${controllerPort}/api/v1`,
          `http://[::1]:${controllerPort}/api/v1`,
          `http://127.0.0.1:${postgresPort}/`,
          "http://169.254.169.254/latest/meta-data/",
        ],
        sockets: [
          { hostname: "127.0.0.1", port: postgresPort, send: sslRequest },
          { hostname: "127.0.0.1", port: natsPort },
        ],
      },
    })) as Probed;
    for (const f of fetches) expect(refused(f), JSON.stringify(f)).toBe(true);
    for (const s of sockets) expect(unconnected(s), JSON.stringify(s)).toBe(true);
  });

  it("lets an action call the platform's API at the configured API host, through the controllers", async () => {
    const name = unique("lister");
    await other().actions.create({
      name,
      action: `async function main() {
        const res = await fetch(process.env.__OW_API_HOST + "/api/v1/namespaces/_/actions?limit=200", {
          headers: { authorization: "Basic " + btoa(process.env.__OW_API_KEY) },
        });
        return { apiHost: process.env.__OW_API_HOST, status: res.status, names: (await res.json()).map((a) => a.name) };
      }`,
      annotations: { "provide-api-key": true },
    });
    // api.edgewhisk.test resolves nowhere: only the gateway's way to the controllers reaches it.
    const result = await other().actions.invoke({ name, blocking: true, result: true });
    expect(result).toEqual({ apiHost: API_HOST, status: 200, names: expect.arrayContaining([name, "probe"]) });
  });
});
