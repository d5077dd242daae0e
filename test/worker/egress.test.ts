// Egress walls on the Cloudflare host: what an action's fetch() and connect()
// may reach through the OutboundGateway (src/cloudflare/outbound-gateway.ts), run for
// real in Worker Loader isolates. No test here touches the network: refused
// destinations never leave the gateway, and "public" ones are answered by a
// stub of the gateway's own fetch (the gateway runs in this test isolate).
import { env, exports } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { call, createAction, GUEST_KEY, seedNamespaces } from "./helpers.js";

beforeAll(seedNamespaces);
afterEach(() => {
  vi.restoreAllMocks();
});

const invoke = async (name: string, params: Record<string, unknown> = {}) => {
  const res = await call("POST", `/api/v1/namespaces/_/actions/${name}?blocking=true&result=true`, { body: params });
  expect(res.status, res.text).toBe(200);
  return res.body;
};

/** Fetches each URL and reports what the action saw: a status and body, or the error. */
const FETCH_PROBE = `async function main({ urls }) {
  const seen = {};
  for (const url of urls) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
      seen[url] = { status: res.status, redirected: res.redirected, url: res.url, body: await res.text() };
    } catch (err) {
      seen[url] = { error: err.name + ": " + err.message };
    }
  }
  return seen;
}`;

/** Opens a TCP socket to each address and reports how far it got. */
const CONNECT_PROBE = `import { connect } from "cloudflare:sockets";
export async function main({ addresses }) {
  const seen = {};
  for (const address of addresses) {
    let stage = "connect";
    try {
      const socket = connect(address);
      stage = "opened";
      const info = await socket.opened;
      stage = "write";
      const writer = socket.writable.getWriter();
      await writer.write(new TextEncoder().encode("GET / HTTP/1.0\\r\\n\\r\\n"));
      stage = "read";
      const { value, done } = await socket.readable.getReader().read();
      seen[address] = { opened: info, read: done ? null : new TextDecoder().decode(value) };
    } catch (err) {
      seen[address] = { stage, error: err.name + ": " + err.message };
    }
  }
  return seen;
}`;

/** The exact rejection an action's fetch gets for a refused destination. */
const refused = (url: string, reason: string) => ({
  error: `TypeError: destination not allowed: ${url}: ${reason}; actions may reach the public internet and their API host only`,
});

/** Answers the gateway's outbound fetches for "public" test hosts; anything else still fails the test loudly. */
function stubInternet(answer: (request: Request) => Response) {
  const seen: Request[] = [];
  const stub = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input as RequestInfo, init);
    seen.push(request);
    return answer(request);
  });
  return { stub, seen };
}

describe("fetch from an action", () => {
  it("refuses loopback, private, link-local and metadata destinations, numeric and IPv6 forms included", async () => {
    await createAction("probe-fetch", FETCH_PROBE);
    const { seen: outbound } = stubInternet(() => new Response("left the gateway", { status: 599 }));
    const urls = [
      "http://127.0.0.1:8787/api/v1",
      "http://localhost/",
      "http://app.localhost:3000/",
      "http://[::1]/",
      "http://[::ffff:127.0.0.1]/",
      "http://169.254.169.254/latest/meta-data/",
      "http://10.0.0.1/",
      "http://172.16.5.4/",
      "http://192.168.1.1/",
      "http://100.64.0.1/",
      "http://0.0.0.0:8787/",
      "http://[fd00::1]/",
      "http://[fe80::1]/",
      "http://2130706433/",
      "http://0x7f.1/",
      "http://db/",
    ];
    const seen = await invoke("probe-fetch", { urls });
    const loopback = "is in 127.0.0.0/8 (loopback)";
    expect(seen).toEqual({
      "http://127.0.0.1:8787/api/v1": refused("http://127.0.0.1:8787/api/v1", `127.0.0.1 ${loopback}`),
      "http://localhost/": refused("http://localhost/", "localhost is a localhost name (loopback)"),
      "http://app.localhost:3000/": refused("http://app.localhost:3000/", "app.localhost is a localhost name (loopback)"),
      "http://[::1]/": refused("http://[::1]/", "[::1] is in ::1/128 (loopback)"),
      // The URL parser rewrites the mapped form; the message quotes what was fetched.
      "http://[::ffff:127.0.0.1]/": refused("http://[::ffff:7f00:1]/", `[::ffff:7f00:1] ${loopback}`),
      "http://169.254.169.254/latest/meta-data/": refused(
        "http://169.254.169.254/latest/meta-data/",
        "169.254.169.254 is in 169.254.169.254/32 (cloud metadata service)",
      ),
      "http://10.0.0.1/": refused("http://10.0.0.1/", "10.0.0.1 is in 10.0.0.0/8 (private network)"),
      "http://172.16.5.4/": refused("http://172.16.5.4/", "172.16.5.4 is in 172.16.0.0/12 (private network)"),
      "http://192.168.1.1/": refused("http://192.168.1.1/", "192.168.1.1 is in 192.168.0.0/16 (private network)"),
      "http://100.64.0.1/": refused("http://100.64.0.1/", "100.64.0.1 is in 100.64.0.0/10 (carrier-grade NAT shared address space)"),
      "http://0.0.0.0:8787/": refused("http://0.0.0.0:8787/", "0.0.0.0 is in 0.0.0.0/8 (this host)"),
      "http://[fd00::1]/": refused("http://[fd00::1]/", "[fd00::1] is in fc00::/7 (unique local (private) network)"),
      "http://[fe80::1]/": refused("http://[fe80::1]/", "[fe80::1] is in fe80::/10 (link-local)"),
      // Numeric shorthands reach the gateway already normalised by the isolate's URL parser.
      "http://2130706433/": refused("http://127.0.0.1/", `127.0.0.1 ${loopback}`),
      "http://0x7f.1/": refused("http://127.0.0.1/", `127.0.0.1 ${loopback}`),
      "http://db/": refused("http://db/", "db is a single-label name, which only a local resolver answers"),
    });
    expect(outbound).toEqual([]);
  });

  it("still reaches the platform's own API host with the action's key", async () => {
    await createAction(
      "egress-lister",
      `async function main() {
        const res = await fetch(process.env.__OW_API_HOST + "/api/v1/namespaces/_/actions?limit=200", {
          headers: { authorization: "Basic " + btoa(process.env.__OW_API_KEY) },
        });
        return { host: process.env.__OW_API_HOST, status: res.status, names: (await res.json()).map((a) => a.name) };
      }`,
      { annotations: [{ key: "provide-api-key", value: true }] },
    );
    const { seen: outbound } = stubInternet(() => new Response("left the gateway", { status: 599 }));
    const result = await invoke("egress-lister");
    expect(result.host).toBe("http://edgewhisk.test");
    expect(result.status).toBe(200);
    expect(result.names).toContain("egress-lister");
    expect(outbound).toEqual([]);
  });

  it("lets public destinations out, and checks every redirect hop", async () => {
    await createAction("probe-redirects", FETCH_PROBE);
    const { seen: outbound } = stubInternet((request) => {
      const { pathname } = new URL(request.url);
      if (pathname === "/to-loopback") return new Response(null, { status: 302, headers: { location: "http://127.0.0.1:5432/" } });
      if (pathname === "/to-public") return new Response(null, { status: 302, headers: { location: "https://public.example/ok" } });
      return new Response(`public ${pathname}`);
    });
    const seen = await invoke("probe-redirects", {
      urls: ["https://public.example/ok", "https://public.example/to-public", "https://public.example/to-loopback"],
    });
    expect(seen["https://public.example/ok"]).toEqual({ status: 200, redirected: false, url: "https://public.example/ok", body: "public /ok" });
    expect(seen["https://public.example/to-public"]).toEqual({ status: 200, redirected: true, url: "https://public.example/ok", body: "public /ok" });
    expect(seen["https://public.example/to-loopback"]).toEqual(
      refused("http://127.0.0.1:5432/", "127.0.0.1 is in 127.0.0.0/8 (loopback)"),
    );
    // The gateway never follows a redirect itself: the isolate's fetch brings each hop back.
    expect(outbound.map((request) => [request.url, request.redirect])).toEqual([
      ["https://public.example/ok", "manual"],
      ["https://public.example/to-public", "manual"],
      ["https://public.example/ok", "manual"],
      ["https://public.example/to-loopback", "manual"],
    ]);
  });
});

describe("WebSocket from an action", () => {
  it("is refused to loopback, as the fetch it upgrades from is", async () => {
    await createAction(
      "probe-websocket",
      `async function main() {
        const ws = new WebSocket("ws://127.0.0.1:8787/");
        const outcome = await new Promise((resolve) => {
          ws.addEventListener("open", () => resolve("open"));
          ws.addEventListener("error", (event) => resolve("error: " + event.message));
          setTimeout(() => resolve("no answer"), 5000);
        });
        return { outcome };
      }`,
    );
    const { seen: outbound } = stubInternet(() => new Response("left the gateway", { status: 599 }));
    expect((await invoke("probe-websocket")).outcome).toBe(
      "error: Uncaught TypeError: destination not allowed: http://127.0.0.1:8787/: 127.0.0.1 is in 127.0.0.0/8 (loopback); actions may reach the public internet and their API host only",
    );
    expect(outbound).toEqual([]);
  });
});

describe("EGRESS_ALLOW", () => {
  const withAllow = async <T>(value: string, run: () => Promise<T>): Promise<T> => {
    const before = env.EGRESS_ALLOW;
    env.EGRESS_ALLOW = value;
    try {
      return await run();
    } finally {
      env.EGRESS_ALLOW = before;
    }
  };

  it("opens a named private destination and nothing next to it", async () => {
    await createAction("probe-allowed", FETCH_PROBE);
    const { seen: outbound } = stubInternet((request) => new Response(`reached ${request.url}`));
    const seen = await withAllow("10.9.8.7:8080", () => invoke("probe-allowed", { urls: ["http://10.9.8.7:8080/x", "http://10.9.8.7/x"] }));
    expect(seen["http://10.9.8.7:8080/x"]).toMatchObject({ status: 200, body: "reached http://10.9.8.7:8080/x" });
    expect(seen["http://10.9.8.7/x"]).toEqual(refused("http://10.9.8.7/x", "10.9.8.7 is in 10.0.0.0/8 (private network)"));
    expect(outbound.map((request) => request.url)).toEqual(["http://10.9.8.7:8080/x"]);
  });

  it("fails closed when it would open loopback: only the API host stays reachable", async () => {
    await createAction(
      "probe-misconfigured",
      `async function main() {
        const api = await fetch(process.env.__OW_API_HOST + "/api/v1");
        let outside;
        try { await fetch("https://public.example/"); outside = "reached"; } catch (err) { outside = err.message; }
        return { api: api.status, outside };
      }`,
    );
    const { seen: outbound } = stubInternet(() => new Response("left the gateway"));
    const seen = await withAllow("10.0.0.0/8, 127.0.0.1", () => invoke("probe-misconfigured"));
    expect(seen).toEqual({
      api: 200,
      outside:
        'destination not allowed: https://public.example/: EGRESS_ALLOW entry "127.0.0.1" would open loopback (127.0.0.0/8), which actions may never reach; actions may reach the public internet and their API host only',
    });
    expect(outbound).toEqual([]);
  });
});

describe("API_HOST", () => {
  it("is what actions see as __OW_API_HOST, and what the gateway serves in-process", async () => {
    await createAction(
      "probe-api-host",
      `async function main() {
        const own = await fetch(process.env.__OW_API_HOST + "/api/v1");
        const origin = await fetch("http://edgewhisk.test/api/v1");
        return { host: process.env.__OW_API_HOST, own: (await own.json()).description, origin: await origin.text() };
      }`,
    );
    const { seen: outbound } = stubInternet((request) => new Response(`over the network: ${request.url}`));
    const before = env.API_HOST;
    env.API_HOST = "https://whisk.example.com/";
    try {
      const seen = await invoke("probe-api-host");
      expect(seen).toEqual({
        host: "https://whisk.example.com",
        own: "OpenWhisk API",
        // The request's origin is no longer the API host: it would go out like any other host.
        origin: "over the network: http://edgewhisk.test/api/v1",
      });
    } finally {
      env.API_HOST = before;
    }
    expect(outbound.map((request) => request.url)).toEqual(["http://edgewhisk.test/api/v1"]);
  });
});

describe("the API host of a warm isolate", () => {
  it("follows the API host each activation sees, when requests come in on different origins", async () => {
    await createAction(
      "probe-origins",
      `async function main() {
        const res = await fetch(process.env.__OW_API_HOST + "/api/v1");
        return { host: process.env.__OW_API_HOST, api: (await res.json()).description };
      }`,
    );
    const { seen: outbound } = stubInternet(() => new Response("{}"));
    const invokeAt = async (origin: string) => {
      const request = new Request(`${origin}/api/v1/namespaces/_/actions/probe-origins?blocking=true&result=true`, {
        method: "POST",
        headers: { authorization: `Basic ${btoa(GUEST_KEY)}` },
      });
      return (await (exports as unknown as { default: Fetcher }).default.fetch(request)).json();
    };
    // Without API_HOST the origin a request came in on is the API host: two origins, one action.
    expect(await invokeAt("http://edgewhisk.test")).toEqual({ host: "http://edgewhisk.test", api: "OpenWhisk API" });
    expect(await invokeAt("http://localhost:8787")).toEqual({ host: "http://localhost:8787", api: "OpenWhisk API" });
    expect(outbound).toEqual([]);
  });
});

describe("connect() from an action", () => {
  it("refuses raw TCP to loopback, private and metadata addresses, in every spelling", async () => {
    await createAction("probe-connect", CONNECT_PROBE);
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const addresses = ["127.0.0.1:5432", "2130706433:4222", "[::1]:8080", "[::ffff:7f00:1]:5432", "localhost:5432", "169.254.169.254:80", "10.0.0.1:5432"];
    const seen = await invoke("probe-connect", { addresses });
    // Through a connect() handler the action's socket.opened resolves at once and
    // workerd passes no reason back: the first write (or read) finds the connection lost.
    for (const address of addresses) {
      expect(seen[address], address).toEqual({ stage: expect.stringMatching(/^(write|read)$/), error: "Error: Network connection lost." });
    }
    const logged = warn.mock.calls.map((args) => String(args[0]));
    expect(logged).toEqual([
      "egress: refused connect(): destination not allowed: 127.0.0.1:5432: 127.0.0.1 is in 127.0.0.0/8 (loopback); actions may reach the public internet and their API host only",
      "egress: refused connect(): destination not allowed: 2130706433:4222: 127.0.0.1 is in 127.0.0.0/8 (loopback); actions may reach the public internet and their API host only",
      "egress: refused connect(): destination not allowed: [::1]:8080: [::1] is in ::1/128 (loopback); actions may reach the public internet and their API host only",
      "egress: refused connect(): destination not allowed: [::ffff:7f00:1]:5432: [::ffff:7f00:1] is in 127.0.0.0/8 (loopback); actions may reach the public internet and their API host only",
      "egress: refused connect(): destination not allowed: localhost:5432: localhost is a localhost name (loopback); actions may reach the public internet and their API host only",
      "egress: refused connect(): destination not allowed: 169.254.169.254:80: 169.254.169.254 is in 169.254.169.254/32 (cloud metadata service); actions may reach the public internet and their API host only",
      "egress: refused connect(): destination not allowed: 10.0.0.1:5432: 10.0.0.1 is in 10.0.0.0/8 (private network); actions may reach the public internet and their API host only",
    ]);
  });
});
