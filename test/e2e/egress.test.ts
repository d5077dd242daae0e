// Egress walls against the real local server (`npm start`: wrangler dev,
// with actions in the local isolate sidecar's workerd children), driven by
// the `openwhisk` client: an action's fetch() and connect() to loopback — the server's own port by another name, and a
// TCP listener this test opens — are refused, and the listener sees no
// connection, while the action's own API host still answers.
import { createServer, type Server } from "node:net";
import openwhisk from "openwhisk";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { GUEST_KEY } from "./scenarios.js";
import { startWranglerServer, type RunningServer } from "./server.js";

const FETCH_PROBE = `async function main({ urls }) {
  const seen = { apiHost: process.env.__OW_API_HOST };
  for (const url of urls) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
      seen[url] = "status " + res.status;
    } catch (err) {
      seen[url] = err.name + ": " + err.message;
    }
  }
  const own = await fetch(process.env.__OW_API_HOST + "/api/v1/namespaces/_/actions?limit=200", {
    headers: { authorization: "Basic " + btoa(process.env.__OW_API_KEY) },
  });
  seen.own = { status: own.status, names: (await own.json()).map((a) => a.name) };
  return seen;
}`;

const CONNECT_PROBE = `import { connect } from "cloudflare:sockets";
export async function main({ addresses }) {
  const seen = {};
  for (const address of addresses) {
    try {
      const socket = connect(address);
      await socket.opened;
      const writer = socket.writable.getWriter();
      await writer.write(new TextEncoder().encode("PING\\r\\n"));
      const { done } = await socket.readable.getReader().read();
      seen[address] = done ? "closed" : "answered";
    } catch (err) {
      seen[address] = err.name + ": " + err.message;
    }
  }
  return seen;
}`;

/**
 * A refusal as the action sees it. Under `npm start` actions run in the local
 * isolate sidecar, whose gateway and workerd network filter refuse (the Node
 * host's walls); inside workerd tests (test/worker/egress.test.ts) the
 * Cloudflare gateway does, naming the policy's reason.
 */
const refused = (_url: string, _reason: string) =>
  expect.stringMatching(/^TypeError: .*(destination not allowed|is not reachable from actions).*actions may reach the public internet and their API host only$/);

describe("egress from actions on npm start", () => {
  let server: RunningServer;
  let listener: Server;
  let listenerPort = 0;
  let connections = 0;

  beforeAll(async () => {
    listener = createServer((socket) => {
      connections++;
      socket.end("HTTP/1.1 200 OK\r\ncontent-length: 6\r\nconnection: close\r\n\r\nLEAKED");
    });
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
    listenerPort = (listener.address() as { port: number }).port;
    server = await startWranglerServer();
  });

  afterAll(async () => {
    await server?.stop();
    await new Promise<void>((resolve) => listener.close(() => resolve()));
  });

  const ow = () => openwhisk({ apihost: server.url, api_key: GUEST_KEY });

  it("refuses fetch to loopback by any name, and still serves the action's API host", async () => {
    const port = new URL(server.url).port;
    await ow().actions.create({
      name: "egress-fetch",
      action: FETCH_PROBE,
      annotations: { "provide-api-key": true },
    });
    const urls = [
      // The server's own port, by names other than the API host's origin (http://127.0.0.1:<port>).
      `http://localhost:${port}/api/v1`,
      `http://[::1]:${port}/api/v1`,
      `http://127.0.0.2:${port}/api/v1`,
      // The listener this test opened, plainly and by a numeric spelling.
      `http://127.0.0.1:${listenerPort}/`,
      `http://2130706433:${listenerPort}/`,
      "http://169.254.169.254/latest/meta-data/",
    ];
    const seen = await ow().actions.invoke({ name: "egress-fetch", blocking: true, result: true, params: { urls } });
    expect(seen.apiHost).toBe(server.url);
    expect(seen).toMatchObject({
      [`http://localhost:${port}/api/v1`]: refused(`http://localhost:${port}/api/v1`, "localhost is a localhost name (loopback)"),
      [`http://[::1]:${port}/api/v1`]: refused(`http://[::1]:${port}/api/v1`, "[::1] is in ::1/128 (loopback)"),
      [`http://127.0.0.2:${port}/api/v1`]: refused(`http://127.0.0.2:${port}/api/v1`, "127.0.0.2 is in 127.0.0.0/8 (loopback)"),
      [`http://127.0.0.1:${listenerPort}/`]: refused(`http://127.0.0.1:${listenerPort}/`, "127.0.0.1 is in 127.0.0.0/8 (loopback)"),
      [`http://2130706433:${listenerPort}/`]: refused(`http://127.0.0.1:${listenerPort}/`, "127.0.0.1 is in 127.0.0.0/8 (loopback)"),
      "http://169.254.169.254/latest/meta-data/": refused(
        "http://169.254.169.254/latest/meta-data/",
        "169.254.169.254 is in 169.254.169.254/32 (cloud metadata service)",
      ),
      own: { status: 200, names: expect.arrayContaining(["egress-fetch"]) },
    });
    expect(connections).toBe(0);
  });

  it("refuses connect() to loopback: the listener never sees a connection", async () => {
    await ow().actions.create({ name: "egress-connect", action: CONNECT_PROBE, kind: "nodejs:default" });
    const addresses = [`127.0.0.1:${listenerPort}`, `2130706433:${listenerPort}`, `localhost:${listenerPort}`, `[::ffff:127.0.0.1]:${listenerPort}`];
    const seen = await ow().actions.invoke({ name: "egress-connect", blocking: true, result: true, params: { addresses } });
    for (const address of addresses) expect(seen[address], address).toBe("Error: Network connection lost.");
    expect(connections).toBe(0);
    // The reason reaches the server's log, not the action (workerd carries none back); logs arrive a little later.
    await vi.waitFor(() => expect(server.output()).toMatch(new RegExp(`connecting to 127\\.0\\.0\\.1:${listenerPort} is not allowed|egress: refused connect\\(\\): destination not allowed: 127\\.0\\.0\\.1:${listenerPort}`)), {
      timeout: 5_000,
    });
  });
});
