// Which invoker an action goes to: rendezvous hashing keeps each action on
// one invoker, and a change of invokers moves only the actions it must.
// And how a call proves it comes from a controller: the invoker secret.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { WhiskError } from "../../src/core/errors.js";
import { authorizedByInvokerSecret, HttpInvokers, rendezvousOrder } from "../../src/node/invoker-http-client.js";

const invokers = ["http://invoker-0.invoker:8080", "http://invoker-1.invoker:8080", "http://invoker-2.invoker:8080"];
const actions = Array.from({ length: 300 }, (_, i) => `guest/action-${i}`);
const first = (urls: string[], action: string) => rendezvousOrder(urls, action)[0];

describe("rendezvousOrder", () => {
  it("puts every invoker in an action's order, the same order every time", () => {
    for (const action of actions.slice(0, 10)) {
      const order = rendezvousOrder(invokers, action);
      expect([...order].sort()).toEqual([...invokers].sort());
      expect(rendezvousOrder([...invokers].reverse(), action)).toEqual(order);
    }
  });

  it("spreads actions over the invokers", () => {
    const counts = new Map<string, number>();
    for (const action of actions) counts.set(first(invokers, action), (counts.get(first(invokers, action)) ?? 0) + 1);
    for (const url of invokers) expect(counts.get(url)).toBeGreaterThan(60);
  });

  it("moves only the actions of an invoker that goes, each to its next choice", () => {
    const gone = invokers[1];
    const remaining = invokers.filter((url) => url !== gone);
    for (const action of actions) {
      const before = rendezvousOrder(invokers, action);
      const after = first(remaining, action);
      expect(after).toBe(before[0] === gone ? before[1] : before[0]);
    }
  });
});

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
      const err = await new HttpInvokers([url], secret).invoke(invokeRequest).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WhiskError);
      expect(err).toMatchObject({ status: 401, message: "The supplied authentication is invalid", headers: challenge });
    });
  });

  it("turns a 200 that is no outcome into an internal failure, not a client error", async () => {
    await withInvoker(200, JSON.stringify({ error: "nope" }), async (url) => {
      const err = await new HttpInvokers([url], secret).invokeWeb({ ...invokeRequest, web: {} } as never).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect(err).not.toBeInstanceOf(WhiskError);
    });
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

  it("goes with every call a controller makes, invalidations included", async () => {
    const seen: (string | undefined)[] = [];
    const server = http.createServer((req, res) => {
      seen.push(req.headers.authorization);
      req.resume().on("end", () => res.writeHead(401, { "content-type": "application/json" }).end('{"message":"no"}'));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const invokers = new HttpInvokers([`http://127.0.0.1:${(server.address() as AddressInfo).port}`], secret);
      const action = { namespace: "guest", name: "hello" };
      const request = { activationId: "a", transactionId: "t", action, identity: { subject: "guest", namespace: "guest", uuid: "u", authKey: "k" }, params: {}, receivedAt: 0, apiHost: "http://x" };
      await expect(invokers.invoke(request)).rejects.toThrow(/INVOKER_SECRET \(401\)/);
      await invokers.invalidate([action]);
      expect(seen).toEqual([`Bearer ${secret}`, `Bearer ${secret}`]);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
