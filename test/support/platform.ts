// Assembles the ports of a Platform for the fast tier: the real SqlStore on
// SQLite in memory, the real executor on fake isolates, a queue that keeps
// what is dispatched until a test drains it through the real dispatch path,
// the real concurrency rule over an in-memory authority, and a throttle a
// test can make refuse. Everything records what it was asked.
import { newActivationId } from "../../src/core/activation.js";
import { ConcurrencyLimiter } from "../../src/core/concurrency.js";
import { MemoryLeaseAuthority } from "../../src/core/lease-book.js";
import { Messages, WhiskError } from "../../src/core/errors.js";
import type { EntityRef } from "../../src/core/names.js";
import { ResolutionCache } from "../../src/core/resolve.js";
import { TriggerCache } from "../../src/core/trigger-cache.js";
import type { ThrottledKind } from "../../src/core/throttle.js";
import { componentRequest } from "../../src/invoker/component-request.js";
import { handleDispatch, type DispatchDeps, type Disposition } from "../../src/activation/dispatch.js";
import { ActivationExecutor, type ExecutorDeps } from "../../src/invoker/executor.js";
import type { AlarmService } from "../../src/ports/alarm-service.js";
import type { ConcurrencyGate, Throttle } from "../../src/ports/admission.js";
import type { Dispatcher, DispatchMessage } from "../../src/ports/dispatcher.js";
import type { Platform } from "../../src/ports/platform.js";
import type { Identity } from "../../src/ports/identity.js";
import type { InvokeRequest, Invokers } from "../../src/ports/invokers.js";
import type { SqlStore } from "../../src/store/sql-store.js";
import { FakeIsolates } from "./fake-isolates.js";
import { memoryStore } from "./memory-sql.js";

export const API_HOST = "https://edgewhisk.test";

export function identityOf(namespace: string): Identity {
  return { subject: namespace, namespace, uuid: `uuid-${namespace}`, authKey: `uuid-${namespace}:key` };
}

/** A request as the controller builds it for `namespace` invoking `action` (`ns/name` or `ns/pkg/name`). */
export function invokeRequest(action: EntityRef, params: Record<string, unknown> = {}, namespace = action.namespace): InvokeRequest {
  return {
    activationId: newActivationId(() => crypto.randomUUID()),
    transactionId: "tx",
    action,
    identity: identityOf(namespace),
    params,
    receivedAt: Date.now(),
    apiHost: API_HOST,
  };
}

/** A queue that holds messages until drained. */
export class HeldQueue implements Dispatcher {
  readonly messages: DispatchMessage[] = [];
  /** Every message ever dispatched, drained or not. */
  readonly dispatched: DispatchMessage[] = [];

  async dispatch(message: DispatchMessage): Promise<void> {
    this.messages.push(message);
    this.dispatched.push(message);
  }
}

/** Admits everything, except the namespaces told to refuse (OpenWhisk's 429). */
export class TestThrottle implements Throttle {
  readonly admitted: { namespace: string; kind: ThrottledKind }[] = [];
  readonly refusing = new Set<string>();

  async admit(namespace: string, kind: ThrottledKind): Promise<void> {
    if (this.refusing.has(namespace)) throw new WhiskError(429, Messages.tooManyRequests(1, 0));
    this.admitted.push({ namespace, kind });
  }
}

/** The real concurrency rule (namespace limits from the store) with a log of what was asked. */
export class RecordingGate implements ConcurrencyGate {
  readonly authority = new MemoryLeaseAuthority();
  readonly calls: string[] = [];
  private readonly limiter: ConcurrencyLimiter;

  constructor(store: SqlStore) {
    this.limiter = new ConcurrencyLimiter({ authority: this.authority, limitsOf: (namespace) => store.getNamespaceLimits(namespace) });
  }

  async acquire(namespace: string, activationId: string, ttlMs?: number): Promise<string | undefined> {
    this.calls.push(`acquire ${namespace} ${activationId}`);
    return this.limiter.acquire(namespace, activationId, ttlMs);
  }

  async hold(namespace: string, activationId: string): Promise<void> {
    this.calls.push(`hold ${namespace} ${activationId}`);
    await this.limiter.hold(namespace, activationId);
  }

  async release(namespace: string, activationId: string): Promise<void> {
    this.calls.push(`release ${namespace} ${activationId}`);
    await this.limiter.release(namespace, activationId);
  }

  /** Places of a namespace in use now: leased at the authority and not parked in this gate for the next activation. */
  held(namespace: string): number {
    const { places, inUse } = this.limiter.held(namespace);
    return this.authority.size(namespace) - (places - inUse);
  }
}

const noAlarms: AlarmService = {
  create: () => Promise.reject(new Error("alarms are not part of the test platform")),
  read: async () => undefined,
  update: async () => false,
  setActive: async () => false,
  delete: async () => false,
};

export interface TestPlatform {
  platform: Platform;
  store: SqlStore;
  isolates: FakeIsolates;
  executor: ActivationExecutor;
  queue: HeldQueue;
  throttle: TestThrottle;
  concurrency: RecordingGate;
  /** Work handed to `defer`, to await. */
  deferred: Promise<unknown>[];
  /** What a queue consumer hands the dispatch path (src/activation/dispatch.ts) on this platform. */
  dispatchDeps: DispatchDeps;
  /** Handles queued messages through the real dispatch path (fires queue more) until none is left. */
  drain(): Promise<Disposition[]>;
}

export function createTestPlatform(options: Partial<Pick<ExecutorDeps, "now" | "slots" | "recordActivation" | "observer" | "background">> = {}): TestPlatform {
  const { store } = memoryStore();
  const isolates = new FakeIsolates();
  const queue = new HeldQueue();
  const throttle = new TestThrottle();
  const concurrency = new RecordingGate(store);
  const deferred: Promise<unknown>[] = [];
  const invokers: Invokers = {
    invoke: (request) => executor.execute(request),
    invokeWeb: (request) => executor.executeWeb(request),
    invalidate: async (refs) => executor.invalidate(refs),
    announce: async (upcoming) => executor.announce(upcoming),
  };
  const executor: ActivationExecutor = new ActivationExecutor({
    store,
    isolates,
    // The fake isolates never load the runner; the module set still carries it.
    runnerSource: "// runner",
    preinstalled: {},
    invokeComponent: (call) => invokers.invoke(componentRequest(call)),
    throttle,
    concurrency,
    ...options,
  });
  const dispatchDeps: DispatchDeps = { store, invokers, dispatcher: queue, throttle, concurrency };
  const platform: Platform = {
    store,
    dispatcher: queue,
    invokers,
    alarms: noAlarms,
    throttle,
    concurrency,
    resolutions: new ResolutionCache({ now: options.now }),
    triggers: new TriggerCache({ now: options.now }),
    defer: (work) => void deferred.push(work),
    apiHost: API_HOST,
  };
  return {
    platform,
    store,
    isolates,
    executor,
    queue,
    throttle,
    concurrency,
    deferred,
    dispatchDeps,
    async drain() {
      const dispositions: Disposition[] = [];
      for (let message = queue.messages.shift(); message; message = queue.messages.shift()) {
        dispositions.push(await handleDispatch(message, dispatchDeps));
      }
      return dispositions;
    },
  };
}
