// The rate-limit authority of one namespace on Cloudflare: a Durable Object
// counting the namespace's attempts per kind and minute in its own storage
// (so an evicted object does not forget a minute's count). Controllers take
// tokens from it in batches (RateGate in src/core/throttle.ts).
import { DurableObject } from "cloudflare:workers";
import { takeTokens, type Grant, type MinuteCount, type ThrottledKind } from "../core/throttle.js";
import type { Env } from "./env.js";

export class NamespaceThrottle extends DurableObject<Env> {
  grant(kind: ThrottledKind, minute: number, wanted: number, limit: number): Grant {
    const key = `${kind}:${minute}`;
    const kv = this.ctx.storage.kv;
    let current = kv.get<MinuteCount>(key);
    if (!current) {
      for (const [old] of kv.list({ prefix: `${kind}:` })) kv.delete(old);
      current = { issued: 0, denied: 0 };
    }
    const { count, grant } = takeTokens(current, wanted, limit);
    kv.put(key, count);
    return grant;
  }
}
