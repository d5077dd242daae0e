// The IsolateHost of the Kubernetes invoker: action isolates live in a
// workerd child process, loaded through its Worker Loader binding like on
// Cloudflare. Self-hosted workerd enforces no CPU limit, so a spinning action
// wedges the whole child; when an activation passes its deadline and the
// child no longer answers a ping, the supervisor SIGKILLs it and promotes a
// spare child that is already running (as OpenWhisk destroys a container).
// The late activation is answered with the timeout error; others that were
// on the lost child run again on the new one within their own deadline, and
// are answered with an error if that child is lost too. A child whose memory
// passes its cap is replaced the same way.
import type { IsolateHost, IsolateRun, IsolateSpec } from "../../invoker/isolates.js";
import { IsolateStartError } from "../../invoker/isolates.js";
import type { ActionModules } from "../../runtime/modules.js";
import type { RunReply, RunRequest } from "../../runtime/protocol.js";
import { ChildLost, WorkerdChild, workerdBinary, type Egress, type LossReason, type RunAnswer } from "./child.js";

/** The date action isolates run with; the same as on Cloudflare (src/cloudflare/loader-isolates.ts). */
export const ISOLATE_COMPATIBILITY_DATE = "2026-08-01";

/** How long past its deadline an activation may go unanswered before the child is probed. */
const WEDGE_GRACE_MS = 250;
/** A child whose event loop turns answers a ping well within this. */
const PING_TIMEOUT_MS = 750;
const MEMORY_CHECK_MS = 250;
/** An activation is tried on at most this many children. */
const MAX_ATTEMPTS = 2;

/** What OpenWhisk answers for an action container that ran out of memory or died. */
const LOSS_MESSAGES: Record<LossReason, string> = {
  memory: "The action exhausted its memory and was aborted.",
  deadline: "The action did not produce a valid response and exited unexpectedly.",
  crashed: "The action did not produce a valid response and exited unexpectedly.",
  stopped: "The action did not produce a valid response and exited unexpectedly.",
};

export interface SupervisorOptions {
  /** Resident memory cap of one workerd child. */
  memoryLimitMb: number;
  binary?: string;
  /** Where action isolates may connect; by default the public internet only. */
  egress?: Egress;
}

export interface SupervisorStatus {
  ready: boolean;
  restarts: number;
  pid?: number;
}

type WireModule = ActionModules["modules"][string] | { base64: string };

/** Module sources as JSON: binary data travels as base64. */
function wireModules(modules: ActionModules["modules"]): Record<string, WireModule> {
  return Object.fromEntries(
    Object.entries(modules).map(([name, source]) => [
      name,
      "data" in source ? { base64: Buffer.from(source.data).toString("base64") } : source,
    ]),
  );
}

export class WorkerdSupervisor implements IsolateHost {
  private active?: Promise<WorkerdChild>;
  private spare?: Promise<WorkerdChild>;
  private current?: WorkerdChild;
  private readonly generations = new Map<string, number>();
  private restarts = 0;
  private stopped = false;
  private readonly memoryTimer: ReturnType<typeof setInterval>;
  private readonly binary: string;

  constructor(private readonly options: SupervisorOptions) {
    this.binary = options.binary ?? workerdBinary();
    this.memoryTimer = setInterval(() => void this.checkMemory(), MEMORY_CHECK_MS);
    this.memoryTimer.unref();
  }

  /** Starts the serving child and its spare; resolves once the first serves. */
  async start(): Promise<void> {
    await this.child();
    this.spare ??= this.launch();
  }

  status(): SupervisorStatus {
    return { ready: this.current?.alive ?? false, restarts: this.restarts, pid: this.current?.pid };
  }

  async run(spec: IsolateSpec, request: RunRequest): Promise<IsolateRun> {
    for (let attempt = 1; ; attempt++) {
      const child = await this.child();
      try {
        return await this.runOn(child, spec, request);
      } catch (err) {
        if (!(err instanceof ChildLost)) throw err;
        if (Date.now() >= request.deadline) return { reply: timeoutReply(), cold: false };
        if (attempt >= MAX_ATTEMPTS) return { reply: lostReply(err.reason), cold: false };
      }
    }
  }

  discard(key: string): void {
    this.generations.set(key, (this.generations.get(key) ?? 0) + 1);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.memoryTimer);
    const children = await Promise.allSettled([this.active, this.spare].filter((c) => c !== undefined));
    for (const result of children) if (result.status === "fulfilled") result.value.kill("stopped");
    await Promise.all(children.map((r) => (r.status === "fulfilled" ? r.value.exited : undefined)));
  }

  private async runOn(child: WorkerdChild, spec: IsolateSpec, request: RunRequest): Promise<IsolateRun> {
    const watchdog = setTimeout(
      () => void this.probe(child),
      Math.max(0, request.deadline - Date.now()) + WEDGE_GRACE_MS,
    );
    try {
      let answer = await this.send(child, spec, request);
      if ("missing" in answer) {
        // The child dropped this isolate and the loader remembers the failed
        // load under its id: load it afresh under the next one.
        this.discard(spec.key);
        answer = await this.send(child, spec, request);
      }
      if ("startError" in answer) throw new IsolateStartError(answer.startError);
      if ("error" in answer) throw new Error(answer.error);
      if ("missing" in answer) throw new Error(`isolate ${spec.key} could not be loaded`);
      return answer;
    } finally {
      clearTimeout(watchdog);
    }
  }

  private async send(child: WorkerdChild, spec: IsolateSpec, request: RunRequest): Promise<RunAnswer> {
    // An isolate's gateway knows one API host (host-worker.js): another one needs another isolate.
    const id = `${spec.key}~${this.generations.get(spec.key) ?? 0}@${request.apiHost}`;
    const first = !child.loaded.has(id);
    const built = first ? await spec.build() : undefined;
    const answer = await child.run({
      id,
      compatibilityDate: ISOLATE_COMPATIBILITY_DATE,
      request,
      ...(built ? { mainModule: built.mainModule, modules: wireModules(built.modules) } : {}),
    });
    if (first) child.loaded.add(id);
    return answer;
  }

  /** The serving child, started (or replaced) on demand. */
  private async child(): Promise<WorkerdChild> {
    for (;;) {
      if (this.stopped) throw new Error("the invoker is stopping");
      this.active ??= this.serve(this.launch());
      const child = await this.active;
      if (child.alive) return child;
      if (this.current === child) this.replace(child, "crashed");
      else this.active = undefined;
    }
  }

  private launch(): Promise<WorkerdChild> {
    const starting = WorkerdChild.start({
      binary: this.binary,
      compatibilityDate: ISOLATE_COMPATIBILITY_DATE,
      ...(this.options.egress ? { egress: this.options.egress } : {}),
    });
    starting.then(
      (child) => void child.exited.then(() => this.replace(child, "crashed")),
      () => undefined,
    );
    return starting;
  }

  /** Makes a starting child the serving one. */
  private serve(starting: Promise<WorkerdChild>): Promise<WorkerdChild> {
    const serving: Promise<WorkerdChild> = starting.then(
      (child) => {
        if (this.active === serving) this.current = child;
        return child;
      },
      (err) => {
        if (this.active === serving) this.active = undefined;
        throw err;
      },
    );
    return serving;
  }

  /** Retires `child` if it serves: the spare takes over and a new spare starts. */
  private replace(child: WorkerdChild, reason: LossReason): void {
    child.kill(reason);
    if (this.stopped || this.current !== child) return;
    console.error(`invoker: replacing workerd child ${child.pid} (${reason})`);
    this.restarts++;
    this.current = undefined;
    this.active = this.serve(this.spare ?? this.launch());
    this.spare = this.launch();
  }

  /** After a missed deadline: a child that cannot answer a ping is wedged by a spinning isolate. */
  private async probe(child: WorkerdChild): Promise<void> {
    if (this.current !== child || (await child.ping(PING_TIMEOUT_MS))) return;
    this.replace(child, "deadline");
  }

  private async checkMemory(): Promise<void> {
    const child = this.current;
    const mb = await child?.residentMb();
    if (child && mb !== undefined && mb > this.options.memoryLimitMb) {
      console.error(`invoker: workerd child ${child.pid} uses ${Math.round(mb)} MB, above its ${this.options.memoryLimitMb} MB cap`);
      this.replace(child, "memory");
    }
  }
}

function timeoutReply(): RunReply {
  return { outcome: "timeout", logs: [], truncated: false };
}

function lostReply(reason: LossReason): RunReply {
  return { outcome: "developer", message: LOSS_MESSAGES[reason], logs: [], truncated: false };
}
