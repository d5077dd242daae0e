// Starting the isolate of an action's new version when its invoker hears of
// the update, before an activation needs it. A client that updates an action
// typically invokes it next, and the new isolate is most of that invoke's
// cold start (workerd builds a V8 isolate and its global scope, then loads
// the runner). The controller announces a new version, with its code, before
// it writes it (Invokers.announce, executor.ts `announce`): the isolate the
// next activation will ask for (same key, slot and API host) starts then,
// while the write and the update's answer go on. For a change announced
// otherwise or not at all (a package's, code over the announcement's bound),
// the refresh after the invalidation reads the new version and its code and
// starts it then.
//
// Only the isolate and the runner module start (RunRequest.prepare): the
// action's own module is imported by the first activation, which still runs
// its top-level code, meets its init errors and reports initTime, as
// OpenWhisk's /init does on a prewarmed container.
//
// An isolate is started only for a name activations ran under since the last
// one was started for it, so a run of updates nobody invokes starts one at most.
import { ExpiringCache } from "../core/cache.js";
import { qualifiedName, type EntityRef } from "../core/names.js";

/** Which names ran here lately, for which invoking namespace, called on which API host. */
export class RecentInvocations {
  private readonly apiHosts: ExpiringCache<string>;

  constructor(ttlMs: number, maxEntries = 256, now?: () => number) {
    this.apiHosts = new ExpiringCache(ttlMs, maxEntries, now);
  }

  /** An activation of `addressed` ran here for `callerNamespace`, called on `apiHost`. */
  ran(callerNamespace: string, addressed: EntityRef, apiHost: string): void {
    this.apiHosts.set(`${callerNamespace}|${qualifiedName(addressed)}`, apiHost);
  }

  /**
   * The API host to start an isolate of `addressed`'s new version for, once:
   * undefined when no activation ran under the name since the last call.
   */
  take(callerNamespace: string, addressed: EntityRef): string | undefined {
    const key = `${callerNamespace}|${qualifiedName(addressed)}`;
    const apiHost = this.apiHosts.get(key);
    if (apiHost !== undefined) this.apiHosts.delete(key);
    return apiHost;
  }
}
