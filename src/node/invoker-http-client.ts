// The Invokers port on Kubernetes: invoker pods called over HTTP. Each action
// goes to the first invoker of its order among the live ones (membership.ts:
// rendezvous hashing, so it stays on the invoker that holds its warm
// isolate, spilling past full ones); an invoker that cannot be reached or
// answers 503 is passed over (the next one in the action's order takes it)
// and skipped for a while. Every call carries the shared INVOKER_SECRET: an
// invoker runs whatever identity a request names, so it must know the
// request comes from a controller (or another invoker), never from action
// code or anything else on the network.
import { createHash, timingSafeEqual } from "node:crypto";
import http from "node:http";
import type { ActivationRecord } from "../core/activation.js";
import { qualifiedName, type EntityRef } from "../core/names.js";
import type { InvokeRequest, Invokers, UpcomingVersion, WebInvokeRequest, WebOutcome } from "../ports/invokers.js";
import { decodeInvokeOutcome, decodeWebOutcome } from "../runtime/invoke-outcome.js";

/** How long an unreachable invoker is passed over before it is tried first again. */
const DOWN_FOR_MS = 5_000;
const CONNECT_TIMEOUT_MS = 3_000;

/** The request never reached an invoker that could take it: another one may. */
class NotDelivered extends Error {}

/** The invoker took the request and the connection broke before its answer: it may have run it. */
export class InvokerLost extends Error {}

/**
 * Idle connections are closed after 30 s by this side, before the invoker's
 * server would (serve.ts KEEP_ALIVE_TIMEOUT_MS): a call never goes out on a
 * connection the invoker is closing, which broke as "socket hang up" and
 * was taken for an invoker lost mid-activation. (The timeout closes only
 * idle sockets; a call that waits longer on its answer is left alone.)
 */
const agent = new http.Agent({ keepAlive: true, timeout: 30_000 });

/** Error codes meaning the request was not delivered. */
const NOT_CONNECTED = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

/** The Authorization header of a call to an invoker. */
export function invokerAuthorization(secret: string): string {
  return `Bearer ${secret}`;
}

const digest = (text: string) => createHash("sha256").update(text).digest();

/** Whether an Authorization header carries the secret, compared in constant time (digests, so no length leaks). */
export function authorizedByInvokerSecret(header: string | undefined, secret: string): boolean {
  return timingSafeEqual(digest(header ?? ""), digest(invokerAuthorization(secret)));
}

/** POSTs JSON with the invoker secret and reads JSON back; NotDelivered when no invoker took the request. */
export function postJson(url: string, body: unknown, secret: string): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    let connected = false;
    const headers = { "content-type": "application/json", authorization: invokerAuthorization(secret) };
    const req = http.request(url, { method: "POST", agent, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("error", reject);
      res.on("end", () => {
        // 503: the invoker is starting or draining and took nothing.
        if (res.statusCode === 503) return reject(new NotDelivered(`${url} is not serving`));
        try {
          resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined });
        } catch {
          reject(new Error(`${url} answered ${res.statusCode} with no JSON: ${text.slice(0, 200)}`));
        }
      });
    });
    const connectTimer = setTimeout(() => req.destroy(new NotDelivered(`${url}: no connection within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
    req.on("socket", (socket) => {
      if (!socket.connecting) {
        connected = true;
        clearTimeout(connectTimer);
      } else {
        socket.once("connect", () => {
          connected = true;
          clearTimeout(connectTimer);
        });
      }
    });
    req.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(connectTimer);
      if (err instanceof NotDelivered || !connected || NOT_CONNECTED.has(err.code ?? "")) {
        reject(new NotDelivered(`${url}: ${err.message}`));
      } else reject(new InvokerLost(`${url}: ${err.message}`));
    });
    req.end(JSON.stringify(body));
  });
}

/** Where the invokers are: kept by membership.ts from their heartbeats. */
export interface InvokerDirectory {
  /** Base URLs of the live invokers, in the order an action with this key tries them. */
  urls(key: string): string[];
  /** Base URLs of every invoker that may hold cached entities. */
  everyone(): string[];
}

export class HttpInvokers implements Invokers {
  private readonly downUntil = new Map<string, number>();

  /** `lost` answers an activation whose invoker died mid-run (activation/failures.ts recordLostActivation). */
  constructor(
    private readonly directory: InvokerDirectory,
    private readonly secret: string,
    private readonly lost?: (request: InvokeRequest) => Promise<ActivationRecord>,
  ) {}

  /** Invokers up first, in the action's order; those recently unreachable last. */
  private candidates(ref: EntityRef): string[] {
    const now = Date.now();
    const order = this.directory.urls(qualifiedName(ref));
    const isDown = (url: string) => (this.downUntil.get(url) ?? 0) > now;
    return [...order.filter((url) => !isDown(url)), ...order.filter(isDown)];
  }

  async invoke(request: InvokeRequest): Promise<ActivationRecord> {
    let answer: unknown;
    try {
      answer = await this.call(request.action, "/invoke", request);
    } catch (err) {
      if (!(err instanceof InvokerLost) || !this.lost) throw err;
      console.error(`activation ${request.activationId}: ${err.message}`);
      return this.lost(request);
    }
    return decodeInvokeOutcome(answer);
  }

  async invokeWeb(request: WebInvokeRequest): Promise<WebOutcome> {
    return decodeWebOutcome(await this.call(request.action, "/invoke-web", request));
  }

  /** POSTs to the action's invoker, passing over those that cannot take it; its 200 answer, undecoded. */
  private async call(ref: EntityRef, path: string, body: { activationId: string }): Promise<unknown> {
    const failures: string[] = [];
    for (const url of this.candidates(ref)) {
      let answer: { status: number; json: unknown };
      try {
        answer = await postJson(`${url}${path}`, body, this.secret);
      } catch (err) {
        if (!(err instanceof NotDelivered)) throw err;
        this.downUntil.set(url, Date.now() + DOWN_FOR_MS);
        failures.push(err.message);
        continue;
      }
      this.downUntil.delete(url);
      if (answer.status === 200) return answer.json;
      if (answer.status === 401) throw new Error(`invoker ${url} refused this process's INVOKER_SECRET (401)`);
      const failure = answer.json as { message?: string } | undefined;
      const message = failure?.message ?? "no answer";
      throw new Error(`invoker ${url} failed (${answer.status}): ${message}`);
    }
    const why = failures.length ? failures.join("; ") : "no invoker is live";
    throw new Error(`no invoker could take activation ${body.activationId}: ${why}`);
  }

  /** To every invoker, as invalidations: any of them may have run the action lately. */
  async announce(upcoming: UpcomingVersion): Promise<void> {
    await Promise.all(
      this.directory.everyone().map((url) =>
        postJson(`${url}/announce`, upcoming, this.secret).then(
          ({ status }) => {
            if (status !== 204) console.error(`announce on ${url} answered ${status}`);
          },
          (err) => {
            if (!(err instanceof NotDelivered)) console.error(`announce on ${url} failed:`, (err as Error).message);
          },
        ),
      ),
    );
  }

  /** Every invoker may hold a copy (an action moves when invokers come and go). */
  async invalidate(refs: EntityRef[]): Promise<void> {
    await Promise.all(
      this.directory.everyone().map((url) =>
        postJson(`${url}/invalidate`, { refs }, this.secret).then(
          ({ status }) => {
            if (status !== 204) console.error(`invalidate on ${url} answered ${status}`);
          },
          (err) => {
            // An invoker that is down holds nothing; its cache also expires on its own.
            if (!(err instanceof NotDelivered)) console.error(`invalidate on ${url} failed:`, (err as Error).message);
          },
        ),
      ),
    );
  }
}
