// Calling an invoker over HTTP: its answers, passing over one that is not
// serving, and how a call proves it comes from a controller: the invoker
// secret. (Which invoker an action goes to: test/unit/invoker-membership.)
import http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { WhiskError } from "../../src/core/errors.js";
import { authorizedByInvokerSecret, HttpInvokers, InvokerLost } from "../../src/node/invoker-http-client.js";

/** Invokers at fixed URLs, as membership would list them. */
const at = (...urls: string[]) => ({ urls: () => urls, everyone: () => urls });

/** A one-route invoker answering every call with `status` and `body`, for the duration of `use`. */
async function withInvoker(status: number, body: string, use: (url: string) => Promise<void>): Promise<void> {
  const server = http.createServer((req, res) => {
    req.resume().on("end", () => res.writeHead(status, { "content-type": "application/json" }).end(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    await use(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

const invokeRequest = {
  activationId: "a",
  transactionId: "t",
  action: { namespace: "guest", name: "hello" },
  identity: { subject: "guest", namespace: "guest", uuid: "u", authKey: "k" },
  params: {},
  receivedAt: 0,
  apiHost: "http://x",
};

describe("an invoker's answer", () => {
  const secret = "s".repeat(64);

  it("rethrows the WhiskError an invoker answered, headers included", async () => {
    const challenge = { "WWW-Authenticate": 'Basic realm="whisk rest service"' };
    const body = JSON.stringify({ error: { status: 401, message: "The supplied authentication is invalid", headers: challenge } });
    await withInvoker(200, body, async (url) => {
      const err = await new HttpInvokers(at(url), secret).invoke(invokeRequest).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WhiskError);
      expect(err).toMatchObject({ status: 401, message: "The supplied authentication is invalid", headers: challenge });
    });
  });

  it("turns a 200 that is no outcome into an internal failure, not a client error", async () => {
    await withInvoker(200, JSON.stringify({ error: "nope" }), async (url) => {
      const err = await new HttpInvokers(at(url), secret).invokeWeb({ ...invokeRequest, web: {} } as never).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect(err).not.toBeInstanceOf(WhiskError);
    });
  });
});

const upcoming = {
  ref: { namespace: "guest", name: "hello" },
  doc: { namespace: "guest", name: "hello", version: "0.0.2", exec: { kind: "nodejs:20", binary: false } } as never,
  codeDigest: "d".repeat(64),
  code: "function main() { return {}; }",
};

describe("announcing a new version", () => {
  it("tells every invoker, and one that does not take it (an older invoker) fails nothing", async () => {
    const received: { at: string; path?: string; body: unknown }[] = [];
    const invoker = (status: number, name: string) =>
      http.createServer((req, res) => {
        let text = "";
        req.setEncoding("utf8");
        req.on("data", (chunk: string) => (text += chunk));
        req.on("end", () => {
          received.push({ at: name, path: req.url, body: JSON.parse(text) });
          res.writeHead(status).end();
        });
      });
    const servers = [invoker(204, "current"), invoker(404, "older")];
    for (const server of servers) await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const urls = servers.map((server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    try {
      await new HttpInvokers(at(...urls), "s".repeat(64)).announce(upcoming);
      expect(received.sort((a, b) => a.at.localeCompare(b.at))).toEqual([
        { at: "current", path: "/announce", body: upcoming },
        { at: "older", path: "/announce", body: upcoming },
      ]);
    } finally {
      for (const server of servers) {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    }
  });
});

describe("an invoker lost mid-run", () => {
  const secret = "s".repeat(64);

  it("answers with what `lost` records, and never hands the activation to another invoker", async () => {
    // Takes the request, then dies before answering.
    const dying = http.createServer((req) => req.resume().on("end", () => req.socket.destroy()));
    await new Promise<void>((resolve) => dying.listen(0, "127.0.0.1", resolve));
    let secondCalls = 0;
    const second = http.createServer((req, res) => {
      secondCalls++;
      req.resume().on("end", () => res.writeHead(500).end());
    });
    await new Promise<void>((resolve) => second.listen(0, "127.0.0.1", resolve));
    const url = (server: http.Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const lost: string[] = [];
      const record = { activationId: "a", response: { status: "whisk internal error" } };
      const invokers = new HttpInvokers(at(url(dying), url(second)), secret, async (request) => {
        lost.push(request.activationId);
        return record as never;
      });
      expect(await invokers.invoke(invokeRequest)).toBe(record);
      expect(lost).toEqual(["a"]);
      expect(secondCalls).toBe(0);
      // Without a way to record it, the loss is the caller's error (never a spill).
      await expect(new HttpInvokers(at(url(dying), url(second)), secret).invoke(invokeRequest)).rejects.toBeInstanceOf(InvokerLost);
      expect(secondCalls).toBe(0);
    } finally {
      for (const server of [dying, second]) {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    }
  });
});

describe("the invoker secret", () => {
  const secret = "s".repeat(64);

  it("accepts exactly `Bearer <secret>`", () => {
    expect(authorizedByInvokerSecret(`Bearer ${secret}`, secret)).toBe(true);
    for (const header of [undefined, "", secret, `Bearer ${secret} `, `Bearer ${secret.slice(1)}`, `bearer ${secret}`, `Basic ${secret}`]) {
      expect(authorizedByInvokerSecret(header, secret), String(header)).toBe(false);
    }
  });

  it("goes with every call a controller makes, invalidations and announcements included", async () => {
    const seen: (string | undefined)[] = [];
    const server = http.createServer((req, res) => {
      seen.push(req.headers.authorization);
      req.resume().on("end", () => res.writeHead(401, { "content-type": "application/json" }).end('{"message":"no"}'));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const invokers = new HttpInvokers(at(`http://127.0.0.1:${(server.address() as AddressInfo).port}`), secret);
      const action = { namespace: "guest", name: "hello" };
      const request = { activationId: "a", transactionId: "t", action, identity: { subject: "guest", namespace: "guest", uuid: "u", authKey: "k" }, params: {}, receivedAt: 0, apiHost: "http://x" };
      await expect(invokers.invoke(request)).rejects.toThrow(/INVOKER_SECRET \(401\)/);
      await invokers.invalidate([action]);
      await invokers.announce(upcoming);
      expect(seen).toEqual([`Bearer ${secret}`, `Bearer ${secret}`, `Bearer ${secret}`]);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
