// The Node host's HTTP servers keep an idle keep-alive connection open longer
// than Node's client agents do (5 s), so a client reusing one never races the
// server closing it ("socket hang up").
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { controllerConfig } from "../../src/node/config.js";
import { closeServer, KEEP_ALIVE_TIMEOUT_MS, listen } from "../../src/node/serve.js";

type Server = Awaited<ReturnType<typeof listen>>;

/** Sends one GET on the socket and resolves with the next response's head, or rejects if the socket ends first. */
function request(socket: Socket, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const onData = (chunk: Buffer) => {
      text += chunk.toString("utf8");
      if (text.includes("\r\n\r\n") && text.endsWith(path)) done(() => resolve(text));
    };
    const onEnd = () => done(() => reject(new Error(`the server closed the connection (read: ${JSON.stringify(text)})`)));
    const done = (then: () => void) => {
      socket.off("data", onData).off("end", onEnd).off("close", onEnd).off("error", onEnd);
      then();
    };
    socket.on("data", onData).on("end", onEnd).on("close", onEnd).on("error", onEnd);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: test\r\nConnection: keep-alive\r\n\r\n`);
  });
}

describe("Node host HTTP servers", () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    server = await listen((req) => new Response(new URL(req.url).pathname), 0, "127.0.0.1");
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => closeServer(server));

  it("keep an idle keep-alive connection open longer than a client agent's 5 s", async () => {
    expect(KEEP_ALIVE_TIMEOUT_MS).toBeGreaterThan(5_000);
    const socket = connect(port, "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    try {
      expect(await request(socket, "/first")).toMatch(/^HTTP\/1\.1 200/);
      // Past Node's default server keepAliveTimeout (5 s), which closed the connection here.
      await new Promise((resolve) => setTimeout(resolve, 6_000));
      expect(await request(socket, "/second")).toMatch(/^HTTP\/1\.1 200/);
    } finally {
      socket.destroy();
    }
  }, 20_000);
});

describe("KEEP_ALIVE_TIMEOUT_MS", () => {
  const required = { DATABASE_URL: "postgres://db/x", NATS_URL: "nats://nats:4222", INVOKER_SECRET: "s".repeat(32) };

  it("sets how long the controller's API port keeps an idle connection, above a load balancer's", async () => {
    expect(controllerConfig(required).keepAliveTimeoutMs).toBe(KEEP_ALIVE_TIMEOUT_MS);
    const config = controllerConfig({ ...required, KEEP_ALIVE_TIMEOUT_MS: "620000" });
    expect(config.keepAliveTimeoutMs).toBe(620_000);
    expect(() => controllerConfig({ ...required, KEEP_ALIVE_TIMEOUT_MS: "soon" })).toThrow(/KEEP_ALIVE_TIMEOUT_MS/);
    const server = await listen(() => new Response("ok"), 0, "127.0.0.1", config.keepAliveTimeoutMs);
    try {
      expect(server).toMatchObject({ keepAliveTimeout: 620_000 });
    } finally {
      await closeServer(server);
    }
  });
});
