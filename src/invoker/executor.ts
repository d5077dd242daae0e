// The host-neutral invoker: resolves the action (cached between
// activations), runs it in a warm isolate, turns the runner's reply into
// OpenWhisk's activation record and stores it. The Cloudflare invoker Durable
// Object and the Kubernetes invoker process both wrap this class.
import {
  buildActivation,
  developerError,
  requestedActivation,
  resultResponse,
  timeoutResponse,
  whiskError,
  type ActivationRecord,
  type ActivationResponse,
} from "../core/activation.js";
import {
  type KeyValue,
  type StoredActionDoc,
  type StoredCodeExec,
  isSequence,
  isTrueAnnotation,
  isTruthyAnnotation,
} from "../core/entities.js";
import { leaseOf } from "../core/concurrency.js";
import { Messages, WhiskError, notFound } from "../core/errors.js";
import { jsonBytes } from "../core/json-size.js";
import { isWebExported, webArguments, webAuthorized } from "../core/webaction.js";
import { LIMITS, MEGABYTE } from "../core/limits.js";
import { fullyQualifiedName, qualifiedName, type EntityRef } from "../core/names.js";
import { assertNoImmutableOverride, immutableParams, runtimeParams } from "../core/params.js";
import { RESOLUTION_TTL_MS, ResolutionCache, resolvedInDefaultPackage, type ForgottenResolution, type ResolvedAction } from "../core/resolve.js";
import type { ConcurrencyGate, Throttle } from "../ports/admission.js";
import type { Identity } from "../ports/identity.js";
import type { InvokeRequest, UpcomingVersion, WebInvokeRequest, WebOutcome } from "../ports/invokers.js";
import type { Store, SubjectRecord } from "../ports/store.js";
import { actionModules, entryFunctionName, type PreinstalledPackages } from "../runtime/modules.js";
import type { RunReply, RunRequest } from "../runtime/protocol.js";
import { DeadlineClock } from "../core/deadlines.js";
import { sha256Hex } from "../core/digest.js";
import { ExpiringCache } from "../core/cache.js";
import { IsolateStartError, type IsolateHost, type IsolateSpec } from "../ports/isolate-host.js";
import { isPythonKind } from "../core/kinds.js";
import { firstSlotOf, IsolateSlots, type IsolateSlotOptions } from "./isolate-slots.js";
import { RecentInvocations } from "./isolate-preparation.js";
import type { CodeGenerationSetup } from "./code-generation.js";
import { FunctionLiteralsByDigest, withPrecompiledFunctions } from "../runtime/precompiled-eval.js";
import { runSequence, type ComponentInvoker } from "./sequence.js";
import { isConductor, runComposition } from "./conductor.js";
import type { ActivationObserver } from "../ports/observer.js";

/** Extra time the invoker grants the runner past the deadline before giving up on it. */
const DEADLINE_GRACE_MS = 2_000;
/** How long an activation's answer waits at most for its concurrent place to be given back. */
const RELEASE_WAIT_MS = 1_000;
/** Resolved actions are also refreshed on this schedule, for changes no invalidation reaches. */
const RESOLVED_TTL_MS = RESOLUTION_TTL_MS;
/** At most this many forgotten actions are read again after one invalidation (a package's may name thousands). */
const MAX_REFRESHED = 16;

export interface ExecutorDeps {
  store: Store;
  isolates: IsolateHost;
  runnerSource: string;
  /** The runner of Python isolates (src/runtime/isolate/python-runner.js); without it Python actions fail to start. */
  pythonRunnerSource?: string;
  /**
   * Whether action code may eval at run time on this host
   * (HOST_CODE_GENERATION), or gets the function sources its code carries
   * precompiled. Without it, neither.
   */
  codeGeneration?: CodeGenerationSetup;
  /** Packages actions may require without bundling them (`openwhisk`). */
  preinstalled: PreinstalledPackages;
  /** Runs a sequence component (another action, possibly on another invoker). */
  invokeComponent: ComponentInvoker;
  /**
   * The owner's rate limit and concurrent places, charged for a web request
   * once its action is found and web-exported (so 404s and 401s cost the
   * namespace nothing).
   */
  throttle: Throttle;
  /** Also releases the place of every request that holds one (`leased`) when it ends. */
  concurrency: ConcurrencyGate;
  /** How many isolates this invoker keeps busy at once, and how many activations may wait for one. */
  slots?: IsolateSlotOptions;
  /**
   * Makes a finished record durable; resolves once it cannot be lost (it may
   * reach the store a moment later). Defaults to writing the store directly.
   * `resultBytes`, when known, is the UTF-8 size of the result's JSON, already
   * measured against the result limit: a writer need not serialise it again.
   * Resolving to `false` says the id was recorded already (a run repeated by
   * at-least-once delivery): the record is kept from the observer.
   */
  recordActivation?: (record: ActivationRecord, resultBytes?: number) => Promise<boolean | void>;
  /** Counts every record this executor makes, once it is recorded (a repeated run's dropped record is not counted). */
  observer?: ActivationObserver;
  /** Keeps work started after an answer alive (a Durable Object's waitUntil); without it, the work just runs. */
  background?: (work: Promise<void>) => void;
  now?: () => number;
}

export class ActivationExecutor {
  private readonly resolutions: ResolutionCache;
  private readonly code = new ExpiringCache<string>(60 * 60_000, 64);
  private readonly functionLiterals = new FunctionLiteralsByDigest();
  private readonly owners = new ExpiringCache<SubjectRecord>(RESOLVED_TTL_MS, 64);
  /** Names run here lately: a refresh starts their new version's isolate. */
  private readonly recent: RecentInvocations;
  private readonly deadlines: DeadlineClock;
  private readonly now: () => number;
  private readonly recordActivation: (record: ActivationRecord) => Promise<void>;
  private readonly slots: IsolateSlots;
  /** The result size measured for a record this executor built (records of runs that answered a result). */
  private readonly resultBytes = new WeakMap<ActivationRecord, number>();
  /**
   * Store reads under way, shared by whoever needs the same answer
   * meanwhile: an invoke that arrives while the refresh after an update is
   * still reading waits for that read instead of starting its own.
   * Resolutions are keyed by the invalidations seen, so a read started
   * before one is not handed to a caller after it.
   */
  private readonly resolving = new Map<string, Promise<ResolvedAction>>();
  private readonly loading = new Map<string, Promise<string>>();
  private invalidations = 0;

  constructor(private readonly deps: ExecutorDeps) {
    this.now = deps.now ?? Date.now;
    this.slots = new IsolateSlots(deps.slots);
    this.deadlines = new DeadlineClock(this.now);
    const recordActivation = deps.recordActivation ?? ((record: ActivationRecord) => deps.store.putActivation(record));
    this.recordActivation = async (record) => {
      const stored = await recordActivation(record, this.resultBytes.get(record));
      if (stored !== false) deps.observer?.recorded(record);
    };
    this.resolutions = new ResolutionCache({ ttlMs: RESOLVED_TTL_MS, now: this.now });
    this.recent = new RecentInvocations(RESOLVED_TTL_MS, 256, this.now);
  }

  /**
   * Forgets the actions resolved under these names, for every invoking
   * namespace. An action reached under another name (through a binding of a
   * changed package) is not forgotten here: its copy expires within
   * RESOLVED_TTL_MS.
   *
   * What was forgotten was being invoked here, so it is read again at once,
   * code included: the first invoke of a changed action (a new version, as
   * a client typically sends right after its update) then finds it in hand
   * instead of reading the store twice before it can start an isolate.
   * Its isolate is started too (src/invoker/isolate-preparation.ts).
   */
  invalidate(refs: EntityRef[]): void {
    this.invalidations++;
    const forgotten = this.resolutions.invalidate(refs);
    if (forgotten.length === 0) return;
    const work = this.refresh(forgotten.slice(0, MAX_REFRESHED));
    if (this.deps.background) this.deps.background(work);
    else void work; // refresh() settles every failure itself
  }

  /**
   * A new version of an action is being stored (its controller says so
   * before its write, with the version and its code): if the action ran
   * here lately, its isolate starts now, while the controller still writes
   * and answers, rather than once the invalidation after the write has been
   * read back from the store. Nothing is cached as resolved: the store stays
   * the only source of what an invoke runs (an announced version whose write
   * fails is never resolved, and its isolate never used). New code is kept,
   * under its digest, which names it whatever becomes of the write; code a
   * version keeps is read by digest if not in hand (it is stored already).
   */
  announce(upcoming: UpcomingVersion): void {
    const { ref, doc, codeDigest, code } = upcoming;
    if (ref.packageName || isSequence(doc.exec) || isPythonKind(doc.exec.kind)) return;
    const apiHost = this.recent.take(ref.namespace, ref);
    if (apiHost === undefined) return;
    if (code !== undefined && this.code.get(codeDigest) === undefined) this.code.set(codeDigest, code);
    // A version that cannot start is left to its first invoke, which meets the failure.
    const work = this.prepare(resolvedInDefaultPackage(ref, { doc, codeDigest }), doc.exec, ref.namespace, apiHost).catch(() => undefined);
    if (this.deps.background) this.deps.background(work);
    else void work;
  }

  /**
   * Resolves and loads the code of forgotten actions, and starts the
   * isolate of each that ran here since; one that fails is left to its next
   * invoke, which meets the failure.
   */
  private async refresh(forgotten: ForgottenResolution[]): Promise<void> {
    for (const { callerNamespace, addressed } of forgotten) {
      try {
        const action = await this.resolveShared(addressed, callerNamespace);
        const { exec } = action.doc;
        if (isSequence(exec) || !action.codeDigest) continue;
        await this.loadCode(action);
        const apiHost = this.recent.take(callerNamespace, addressed);
        if (apiHost !== undefined && !isPythonKind(exec.kind)) await this.prepare(action, exec, callerNamespace, apiHost);
      } catch {
        // Deleted, or no longer reachable by that namespace: nothing to prepare.
      }
    }
  }

  /**
   * Starts the isolate an activation of `action` for `callerNamespace` on
   * `apiHost` would get first (its invocation adding no init parameter),
   * without loading the action's module. One that does not start is
   * discarded: the activation starts its own and meets the failure there.
   */
  private async prepare(action: ResolvedAction, exec: StoredCodeExec, callerNamespace: string, apiHost: string): Promise<void> {
    const { doc } = action;
    const main = exec.main ?? "main";
    const params = runtimeParams(action.params, {});
    const key = firstSlotOf(await isolateKey(callerNamespace, action, main, params.init));
    const deadline = this.now() + doc.limits.timeout;
    const request: RunRequest = {
      params: {},
      initEnv: params.init,
      mainName: entryFunctionName(main, exec.binary),
      activationId: "",
      transactionId: "",
      namespace: callerNamespace,
      actionName: fullyQualifiedName(action.ref),
      actionVersion: doc.version,
      apiHost,
      deadline,
      logLimitBytes: doc.limits.logs * MEGABYTE,
      prepare: true,
    };
    try {
      const run = await this.deadlines.race(this.deps.isolates.run(this.isolateSpec(action, exec, key, main), request), deadline + DEADLINE_GRACE_MS);
      if (run?.reply.outcome !== "prepared") this.deps.isolates.discard(key);
    } catch {
      this.deps.isolates.discard(key);
    }
  }

  /** Resolves the action a request names; throws OpenWhisk's errors for what cannot be invoked. */
  async resolve(request: Pick<InvokeRequest, "action" | "identity">): Promise<ResolvedAction> {
    return this.resolveShared(request.action, request.identity.namespace);
  }

  private resolveShared(addressed: EntityRef, callerNamespace: string): Promise<ResolvedAction> {
    const key = `${this.invalidations}|${callerNamespace}|${qualifiedName(addressed)}`;
    let read = this.resolving.get(key);
    if (!read) {
      read = this.resolutions.resolve(this.deps.store, addressed, callerNamespace).finally(() => this.resolving.delete(key));
      this.resolving.set(key, read);
    }
    return read;
  }

  /**
   * A web request: the action must be exported; OPTIONS is answered by the
   * platform unless the action takes it over; require-whisk-auth, raw and
   * final rules decide its arguments; it runs as its namespace's owner.
   */
  async executeWeb(request: WebInvokeRequest): Promise<WebOutcome> {
    const owner = await this.ownerOf(request.action.namespace);
    if (!owner) throw notFound();
    const identity: Identity = { subject: owner.subject, namespace: owner.namespace, uuid: owner.uuid, authKey: "" };
    let action: ResolvedAction;
    try {
      action = await this.resolve({ action: request.action, identity });
    } catch (err) {
      if (err instanceof WhiskError) throw notFound();
      throw err;
    }
    const { annotations } = action.doc;
    if (!isWebExported(annotations)) throw notFound();
    const customOptions = isTrueAnnotation(annotations, "web-custom-options");
    const isOptions = request.web.method.toUpperCase() === "OPTIONS";
    if (isOptions && !customOptions) return { kind: "options" };
    if (!isOptions && !webAuthorized(annotations, request.web.headers, request.user !== undefined)) {
      throw new WhiskError(401, Messages.authenticationRequired);
    }
    const params = webArguments(
      request.web,
      isTrueAnnotation(annotations, "raw-http"),
      request.user?.namespace,
      immutableParams(annotations, action.params),
    );
    await this.charge(identity.namespace, request.activationId);
    const record = await this.execute(
      {
        activationId: request.activationId,
        transactionId: request.transactionId,
        action: request.action,
        identity,
        params,
        receivedAt: request.receivedAt,
        apiHost: request.apiHost,
        leased: true,
      },
      action,
    );
    return { kind: "record", record, customOptions };
  }

  /**
   * Web activations count against the namespace that owns the action, as in
   * OpenWhisk, once it is known to run: its rate (checked first, as
   * OpenWhisk does, so a refused place still spent a token) and a place
   * among its concurrent activations, asked for together.
   */
  private async charge(namespace: string, activationId: string): Promise<void> {
    const [rate, place] = await Promise.allSettled([
      this.deps.throttle.admit(namespace, "invoke"),
      // The place is this invoker's: the web activation ends here (execute releases it).
      this.deps.concurrency.hold(namespace, activationId),
    ]);
    if (rate.status === "rejected") {
      if (place.status === "fulfilled") await this.releasePlace({ namespace, activationId });
      throw rate.reason;
    }
    if (place.status === "rejected") throw place.reason;
  }

  private async ownerOf(namespace: string): Promise<SubjectRecord | undefined> {
    const cached = this.owners.get(namespace);
    if (cached) return cached;
    const owner = await this.deps.store.findNamespaceOwner(namespace);
    if (owner) this.owners.set(namespace, owner);
    return owner;
  }

  /**
   * Runs an activation and records it. A request holding a concurrent place
   * gives it back when it ends, however it ends, before it is answered (a
   * caller's next invoke must not find its own finished activation still in
   * flight); the release overlaps the record's write, and is waited for at
   * most RELEASE_WAIT_MS (a place not released expires). `resolved` is the
   * action when the caller has just resolved it for this request (a web
   * request, to check its annotations).
   */
  async execute(request: InvokeRequest, resolved?: ResolvedAction): Promise<ActivationRecord> {
    let releasing: Promise<unknown> | undefined;
    const release = () => {
      if (request.leased) releasing ??= this.releasePlace({ namespace: request.identity.namespace, activationId: leaseOf(request) });
    };
    try {
      return await this.executeActivation(request, release, resolved);
    } finally {
      release();
      if (releasing) await this.deadlines.race(releasing, this.now() + RELEASE_WAIT_MS);
    }
  }

  private async releasePlace({ namespace, activationId }: { namespace: string; activationId: string }): Promise<void> {
    try {
      await this.deps.concurrency.release(namespace, activationId);
    } catch (err) {
      console.error(`activation ${activationId}: releasing its place in ${namespace} failed (it expires):`, err);
    }
  }

  private async executeActivation(request: InvokeRequest, ended: () => void, resolved?: ResolvedAction): Promise<ActivationRecord> {
    const action = resolved ?? (await this.resolve(request));
    assertNoImmutableOverride(request.params, immutableParams(action.doc.annotations, action.params));
    const { exec } = action.doc;
    let record: ActivationRecord;
    if (isSequence(exec)) record = await runSequence(action, exec, request, this.deps.invokeComponent, this.now);
    else if (isConductor(action.doc.annotations)) {
      record = await runComposition(action, request, {
        invokeComponent: this.deps.invokeComponent,
        runStep: async (step) => {
          const stepRecord = await this.runCode(action, exec, step);
          await this.recordActivation(stepRecord);
          return stepRecord;
        },
        now: this.now,
      });
    } else record = await this.runCode(action, exec, request);
    ended();
    await this.recordActivation(record);
    return record;
  }

  /** Stored actions keep their code apart, by digest; one without (or whose code is gone) cannot run. */
  private async loadCode(action: ResolvedAction): Promise<string> {
    if (!action.codeDigest) throw new WhiskError(500, Messages.actionRemovedWhileInvoking);
    const digest = action.codeDigest;
    const cached = this.code.get(digest);
    if (cached !== undefined) return cached;
    let load = this.loading.get(digest);
    if (!load) {
      load = (async () => {
        const code = await this.deps.store.getCode(digest);
        if (code === undefined) throw new WhiskError(500, Messages.actionRemovedWhileInvoking);
        this.code.set(digest, code);
        return code;
      })().finally(() => this.loading.delete(digest));
      this.loading.set(digest, load);
    }
    return load;
  }

  private async runCode(action: ResolvedAction, exec: StoredCodeExec, request: InvokeRequest): Promise<ActivationRecord> {
    const { doc } = action;
    const main = exec.main ?? "main";
    const mainName = entryFunctionName(main, exec.binary);
    const params = runtimeParams(action.params, request.params);
    const key = await isolateKey(request.identity.namespace, action, main, params.init);
    this.recent.ran(request.identity.namespace, request.action, request.apiHost);
    // Waiting for a slot (when the invoker is at its bound) is waitTime, not part of the run.
    const slot = await this.slots.acquire(key, doc.limits.concurrency, { queued: request.queued === true });
    try {
      return await this.runInSlot(action, exec, request, slot.id, params, mainName, main);
    } finally {
      slot.release();
    }
  }

  private async runInSlot(
    action: ResolvedAction,
    exec: StoredCodeExec,
    request: InvokeRequest,
    key: string,
    params: ReturnType<typeof runtimeParams>,
    mainName: string,
    main: string,
  ): Promise<ActivationRecord> {
    const { doc } = action;
    const start = this.now();
    const deadline = start + doc.limits.timeout;
    const runRequest: RunRequest = {
      params: params.run,
      initEnv: params.init,
      mainName,
      activationId: request.activationId,
      transactionId: request.transactionId,
      namespace: request.identity.namespace,
      actionName: fullyQualifiedName(action.ref),
      actionVersion: doc.version,
      apiHost: request.apiHost,
      apiKey: providesApiKey(doc) ? request.identity.authKey : undefined,
      deadline,
      logLimitBytes: doc.limits.logs * MEGABYTE,
    };
    const spec = this.isolateSpec(action, exec, key, main);

    let reply: RunReply;
    let cold = false;
    try {
      const run = await this.deadlines.race(this.deps.isolates.run(spec, runRequest), deadline + DEADLINE_GRACE_MS);
      reply = run ? run.reply : { outcome: "timeout", logs: [], truncated: false };
      // The run that initialised the action: in the isolate it started, or in one started ahead of it (prepare).
      cold = run !== undefined && (run.cold || run.reply.initMs !== undefined);
    } catch (err) {
      this.deps.isolates.discard(key);
      if (!(err instanceof IsolateStartError)) {
        return this.record(action, request, start, this.now(), whiskError(describe(err)), [], {});
      }
      const message = `Initialization has failed due to: ${err.message}`;
      reply = { outcome: "init", message, logs: [], truncated: false };
    }
    const end = this.now();
    if (reply.outcome === "timeout") this.deps.isolates.discard(key);
    const logs = reply.truncated
      ? [...reply.logs, `${new Date(end).toISOString()} stderr: ${Messages.truncatedLogs(doc.limits.logs * MEGABYTE)}`]
      : reply.logs;
    const initTime = cold ? Math.max(0, end - start - (reply.runMs ?? 0)) : undefined;
    const { response, resultBytes } = responseOf(reply, doc);
    const record = this.record(action, request, start, end, response, logs, {
      initTime,
      timedOut: reply.outcome === "timeout",
    });
    if (resultBytes !== undefined) this.resultBytes.set(record, resultBytes);
    return record;
  }

  /** The isolate an action's activations run in under `key`, and how its modules are built. */
  private isolateSpec(action: ResolvedAction, exec: StoredCodeExec, key: string, main: string): IsolateSpec {
    return {
      key,
      memoryMb: action.doc.limits.memory,
      timeoutMs: action.doc.limits.timeout,
      codeGeneration: this.deps.codeGeneration?.mode,
      build: async () => {
        const code = await this.loadCode(action);
        const set = actionModules(
          this.deps.runnerSource,
          { code, binary: exec.binary, main, kind: exec.kind },
          this.deps.preinstalled,
          this.deps.pythonRunnerSource,
        );
        const setup = this.deps.codeGeneration;
        // Zip archives are not searched: their code is not in hand as text.
        const searched = setup?.mode === "precompiled" && !exec.binary && exec.kind.startsWith("nodejs:");
        return searched ? withPrecompiledFunctions(set, this.functionLiterals.of(code, action.codeDigest), setup.shimSource) : set;
      },
    };
  }

  private record(
    action: ResolvedAction,
    request: InvokeRequest,
    start: number,
    end: number,
    response: ActivationResponse,
    logs: string[],
    facts: { initTime?: number; timedOut?: boolean },
  ): ActivationRecord {
    const annotations: KeyValue[] = [];
    if (action.binding) annotations.push({ key: "binding", value: action.binding });
    annotations.push(...(request.extraAnnotations ?? []));
    return buildActivation({
      ...requestedActivation(request, action.ref, action.doc.version, start),
      kind: action.doc.exec.kind,
      limits: action.doc.limits,
      start,
      end,
      initTime: facts.initTime,
      timedOut: facts.timedOut ?? false,
      response,
      logs,
      annotations,
    });
  }
}

/**
 * The response a reply makes, and for a result kept, its size: the result
 * is serialised once here, in the invoker (the isolate's own measure is
 * not to be trusted), and that size serves the limit and the record's writer.
 */
function responseOf(reply: RunReply, doc: StoredActionDoc): { response: ActivationResponse; resultBytes?: number } {
  switch (reply.outcome) {
    case "result": {
      const size = jsonBytes(reply.result);
      if (size > LIMITS.resultBytes) return { response: developerError(Messages.truncatedResponse(size, LIMITS.resultBytes)) };
      return { response: resultResponse(reply.result), resultBytes: size };
    }
    case "timeout":
      return { response: timeoutResponse(doc.limits.timeout) };
    case "developer":
    case "init":
      return { response: developerError(reply.message) };
    case "prepared":
      // Only a preparation asks for this answer; an activation that gets it was not run.
      return { response: whiskError("The action was not run.") };
  }
}

/** Actions created here carry provide-api-key: false unless asked; one without the annotation gets the key, as in OpenWhisk. */
function providesApiKey(doc: StoredActionDoc): boolean {
  return isTruthyAnnotation(doc.annotations, "provide-api-key", true);
}

/**
 * The identity of a warm isolate. As OpenWhisk keeps containers per invoking
 * namespace, an isolate serves one invocation namespace only: module globals
 * one caller leaves behind never reach another. Init parameters are fixed when
 * an isolate starts, so they are part of it too (hashed: they may be secrets).
 */
async function isolateKey(invoker: string, action: ResolvedAction, mainName: string, initEnv: Record<string, unknown>): Promise<string> {
  const base = `${invoker}>${qualifiedName(action.ref)}@${action.doc.version}#${action.codeDigest ?? ""}|${mainName}`;
  if (Object.keys(initEnv).length === 0) return base;
  return `${base}|${await sha256Hex(JSON.stringify(initEnv))}`;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

