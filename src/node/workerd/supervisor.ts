// The IsolateHost of the Kubernetes invoker: action isolates live in a pool
// of workerd child processes, loaded through their Worker Loader binding
// like on Cloudflare. A workerd process runs all its isolates on one thread
// and self-hosted workerd enforces neither CPU nor memory limits per isolate,
// so the child is the unit of containment: a spinning or memory-hungry action
// stalls or loses only the child it runs on, and the others keep their warm
// isolates and their latency.
//
// Placement (placement.ts): an activation goes to the first child in its
// key's rendezvous order that is usable; a child whose heartbeat ping has
// gone unanswered for 250 ms (an isolate holds its thread) or that has an
// activation past its deadline is passed over, so new work spills to the
// next child rather than wait behind a spinner.
//
// Time: when an activation passes its deadline and its child does not
// answer pings, the supervisor SIGKILLs the child and a spare child, already
// running, takes its place (as OpenWhisk destroys a container). The late
// activation is answered with the timeout error.
//
// Memory: every child's resident memory is sampled against a budget, its
// idle baseline plus the memory limits of the activations in flight there
// (capped by the child's hard cap). Over it, the child is killed; the
// activation blamed for the growth (placement.ts) is answered with
// OpenWhisk's memory error and not run again.
//
// Rotation: workerd frees no isolate it has loaded, so a child that has
// served many action versions, or whose isolates' heaps grew under load,
// keeps that memory. Once its idle memory passes three quarters of its cap
// (leaving room for an activation at the default 256 MB), or it has
// loaded maxIsolatesPerChild isolates, the spare takes its place for new
// work and the old child is stopped when what runs there has ended:
// nothing fails, its isolates start cold on the new child.
//
// Others caught on a lost child (victims) run again, on the child that took
// its place or the next usable one, within their own deadline, once: an
// activation may thus run twice (at least once, as on a container OpenWhisk
// loses), and is answered with an error if it is lost again.
import { encodeModules } from "../../runtime/module-wire.js";
import type { IsolateHost, IsolateRun, IsolateSpec } from "../../ports/isolate-host.js";
import { isolateLoaderFlags } from "../../invoker/code-generation.js";
import { IsolateGenerations, ISOLATE_COMPATIBILITY_DATE, startErrorOf } from "../../invoker/worker-loader.js";
import type { RunReply, RunRequest } from "../../runtime/protocol.js";
import { ChildLost, WorkerdChild, workerdBinary, type Egress, type LossReason, type RunAnswer } from "./child.js";
import { baselineAfterColdRun, isolateLoad, memoryVerdict, place, PYTHON_RUNTIME_MB, shouldRotate } from "./placement.js";

/** Children in the pool when the options do not say (WORKERD_CHILDREN). */
export const DEFAULT_CHILDREN = 4;
/** How long past its deadline an activation may go unanswered before its child is probed. */
const WEDGE_GRACE_MS = 100;
/** A child whose event loop turns answers a ping well within this; past it, it is wedged. */
const PING_TIMEOUT_MS = 500;
/** Each child is pinged this often (one ping outstanding at most)... */
const HEARTBEAT_MS = 100;
/**
 * ...and is passed over by placement while a ping has gone unanswered this
 * long: longer than a usual cold start holds a child's thread (measured
 * 130-180 ms for a small action), which a spill elsewhere would only repeat.
 */
const BUSY_AFTER_MS = 250;
const MEMORY_CHECK_MS = 250;
/** Isolates one child loads before it is rotated out (SupervisorOptions.maxIsolatesPerChild). */
export const DEFAULT_MAX_ISOLATES_PER_CHILD = 512;
/** How often a child leaving service is checked for work still running there. */
const DRAIN_CHECK_MS = 100;
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
  /** Hard cap on the resident memory of one workerd child, whatever runs there. */
  memoryLimitMb: number;
  /** workerd children serving at once (default DEFAULT_CHILDREN); one more runs as a spare. */
  children?: number;
  binary?: string;
  /** Where action isolates may connect; by default the public internet only. */
  egress?: Egress;
  /** Isolates a child loads before it is rotated out (default DEFAULT_MAX_ISOLATES_PER_CHILD). */
  maxIsolatesPerChild?: number;
}

export interface ChildStatus {
  pid?: number;
  inFlight: number;
  rssMb?: number;
  /** Milliseconds from spawn until it served. */
  startMs?: number;
  /** Isolates it has loaded since it started. */
  isolates?: number;
}

export interface SupervisorStatus {
  /** At least one child serves. */
  ready: boolean;
  /** Children killed and replaced since the start (a spinning, memory-hungry or crashed child). */
  restarts: number;
  /** Children rotated out of service after their work ended (memory kept by loaded isolates). */
  rotations: number;
  /** The first serving child's process id. */
  pid?: number;
  children: ChildStatus[];
}

/** An activation in flight on a child. */
interface Flight {
  id: number;
  child: WorkerdChild;
  memoryMb: number;
  deadline: number;
  startedAt: number;
  rssAtStartMb: number;
  /** Set when the child is killed for memory this activation is blamed for. */
  blamed?: boolean;
  /** Another activation ran on the child meanwhile, so the child's growth is not this one's alone. */
  shared?: boolean;
}

/** One position of the pool: the child serving there now, and what runs on it. */
interface Member {
  position: number;
  /** The child serving here, or starting to. */
  active?: Promise<WorkerdChild>;
  current?: WorkerdChild;
  flights: Set<Flight>;
  /** Resident memory of `current` when it last had nothing in flight. */
  baselineMb: number;
  lastRssMb?: number;
  /** When the outstanding heartbeat ping was sent. */
  pingSentAt?: number;
}

export class WorkerdSupervisor implements IsolateHost {
  private readonly members: Member[];
  private spare?: Promise<WorkerdChild>;
  private readonly generations = new IsolateGenerations();
  private restarts = 0;
  private rotations = 0;
  private stopped = false;
  private nextFlight = 0;
  private checkingMemory = false;
  private readonly timers: ReturnType<typeof setInterval>[];
  private readonly binary: string;

  constructor(private readonly options: SupervisorOptions) {
    this.binary = options.binary ?? workerdBinary();
    const size = Math.max(1, Math.floor(options.children ?? DEFAULT_CHILDREN));
    this.members = Array.from({ length: size }, (_, position) => ({ position, flights: new Set<Flight>(), baselineMb: 0 }));
    this.timers = [
      setInterval(() => void this.checkMemory(), MEMORY_CHECK_MS),
      setInterval(() => this.heartbeat(), HEARTBEAT_MS),
    ];
    for (const timer of this.timers) timer.unref();
  }

  /** Starts every child of the pool and the spare; resolves once all serve. */
  async start(): Promise<void> {
    await Promise.all(this.members.map((member) => this.child(member)));
    this.spare ??= this.launch();
  }

  status(): SupervisorStatus {
    const children = this.members.map((m) => ({
      pid: m.current?.alive ? m.current.pid : undefined,
      inFlight: m.current ? [...m.flights].filter((f) => f.child === m.current).length : 0,
      ...(m.current ? { rssMb: Math.round(m.lastRssMb ?? m.current.readyRssMb), startMs: m.current.startMs, isolates: m.current.loaded.size } : {}),
    }));
    const serving = children.filter((c) => c.pid !== undefined);
    return { ready: serving.length > 0, restarts: this.restarts, rotations: this.rotations, pid: serving[0]?.pid, children };
  }

  async run(spec: IsolateSpec, request: RunRequest): Promise<IsolateRun> {
    for (let attempt = 1; ; attempt++) {
      const member = this.members[place(spec.key, this.members.length, (position) => this.usable(this.members[position]!))]!;
      const child = await this.child(member);
      // Read now, not at the last sample: when it began is what clears an activation of growth before it (placement.ts).
      const rssAtStartMb = child.residentMb() ?? member.lastRssMb ?? member.baselineMb;
      const flight: Flight = {
        id: this.nextFlight++,
        child,
        memoryMb: spec.memoryMb,
        deadline: request.deadline,
        startedAt: Date.now(),
        rssAtStartMb,
      };
      for (const other of member.flights) {
        if (other.child !== child) continue;
        other.shared = true;
        flight.shared = true;
      }
      member.flights.add(flight);
      try {
        const run = await this.runOn(member, child, spec, request);
        this.answered(member, child);
        if (run.cold) await this.afterColdRun(member, child, flight);
        return run;
      } catch (err) {
        if (!(err instanceof ChildLost)) throw err;
        // The isolate that blew the budget: never again on another child.
        if (flight.blamed) return { reply: lostReply("memory"), cold: false };
        if (Date.now() >= request.deadline) return { reply: timeoutReply(), cold: false };
        if (attempt >= MAX_ATTEMPTS) return { reply: lostReply(err.reason === "memory" ? "crashed" : err.reason), cold: false };
      } finally {
        member.flights.delete(flight);
      }
    }
  }

  discard(key: string): void {
    this.generations.discard(key);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    const starting = [...this.members.map((m) => m.active), this.spare].filter((c) => c !== undefined);
    const children = await Promise.allSettled(starting);
    for (const result of children) if (result.status === "fulfilled") result.value.kill("stopped");
    await Promise.all(children.map((r) => (r.status === "fulfilled" ? r.value.exited : undefined)));
  }

  /** Worth placing new work on: serving, its thread turning, nothing stuck past its deadline there. */
  private usable(member: Member): boolean {
    const child = member.current;
    if (!child?.alive) return false;
    const now = Date.now();
    if (member.pingSentAt !== undefined && now - member.pingSentAt > BUSY_AFTER_MS) return false;
    for (const flight of member.flights) if (flight.child === child && flight.deadline + WEDGE_GRACE_MS < now) return false;
    return true;
  }

  private async runOn(member: Member, child: WorkerdChild, spec: IsolateSpec, request: RunRequest): Promise<IsolateRun> {
    const watchdog = setTimeout(
      () => void this.probe(member, child),
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
      if ("error" in answer) throw startErrorOf(answer.error) ?? new Error(answer.error);
      if ("missing" in answer) throw new Error(`isolate ${spec.key} could not be loaded`);
      return answer;
    } finally {
      clearTimeout(watchdog);
    }
  }

  private async send(child: WorkerdChild, spec: IsolateSpec, request: RunRequest): Promise<RunAnswer> {
    const id = this.generations.id(spec.key, request.apiHost);
    const first = !child.loaded.has(id);
    const built = first ? await spec.build() : undefined;
    if (built?.python) this.loadingPython(child);
    const answer = await child.run({
      id,
      compatibilityDate: ISOLATE_COMPATIBILITY_DATE,
      request,
      ...(built ? { ...encodeModules(built), ...isolateLoaderFlags(spec.codeGeneration, built) } : {}),
    });
    if (first) child.loaded.add(id);
    return answer;
  }

  /** Counts a Python isolate the child is about to load; its first one brings the Pyodide runtime into the child's baseline. */
  private loadingPython(child: WorkerdChild): void {
    child.pythonIsolates++;
    const member = this.members.find((m) => m.current === child);
    if (child.pythonIsolates === 1 && member) member.baselineMb += PYTHON_RUNTIME_MB;
  }

  /** The child serving at `member`, started (or replaced) on demand. */
  private async child(member: Member): Promise<WorkerdChild> {
    for (;;) {
      if (this.stopped) throw new Error("the invoker is stopping");
      member.active ??= this.serve(member, this.launch());
      const child = await member.active;
      if (child.alive) return child;
      if (member.current === child) this.replace(member, child, "crashed");
      else if (member.active) member.active = undefined;
    }
  }

  private launch(): Promise<WorkerdChild> {
    const starting = WorkerdChild.start({
      binary: this.binary,
      compatibilityDate: ISOLATE_COMPATIBILITY_DATE,
      ...(this.options.egress ? { egress: this.options.egress } : {}),
    });
    starting.then(
      (child) =>
        void child.exited.then(() => {
          const member = this.members.find((m) => m.current === child);
          if (member) this.replace(member, child, "crashed");
        }),
      () => undefined,
    );
    return starting;
  }

  /** Makes a starting child the one serving at `member`. */
  private serve(member: Member, starting: Promise<WorkerdChild>): Promise<WorkerdChild> {
    const serving: Promise<WorkerdChild> = starting.then(
      (child) => {
        if (member.active === serving) {
          member.current = child;
          member.baselineMb = child.readyRssMb;
          member.lastRssMb = undefined;
          member.pingSentAt = undefined;
        }
        return child;
      },
      (err) => {
        if (member.active === serving) member.active = undefined;
        throw err;
      },
    );
    return serving;
  }

  /** Retires `child` if it serves at `member`: the spare takes its place and a new spare starts. */
  private replace(member: Member, child: WorkerdChild, reason: LossReason): void {
    child.kill(reason);
    if (this.stopped || member.current !== child) return;
    console.error(`invoker: replacing workerd child ${child.pid} at ${member.position} (${reason})`);
    this.restarts++;
    member.current = undefined;
    member.active = this.serve(member, this.spare ?? this.launch());
    this.spare = this.launch();
  }

  /** Counts what a cold start left resident into the child's baseline, and rotates the child out when it has kept too much. */
  private async afterColdRun(member: Member, child: WorkerdChild, flight: Flight): Promise<void> {
    const rssMb = child.residentMb();
    if (member.current !== child) return;
    // Beside others, the growth is theirs too (their garbage, their isolates): counting it would inflate the baseline.
    if (rssMb !== undefined && !flight.shared) member.baselineMb = baselineAfterColdRun(member.baselineMb, flight.rssAtStartMb, rssMb, flight.memoryMb);
    this.rotateIfFull(member, child);
  }

  private rotateIfFull(member: Member, child: WorkerdChild): void {
    const full = shouldRotate({
      baselineMb: member.baselineMb,
      capMb: this.options.memoryLimitMb,
      loadedIsolates: isolateLoad(child.loaded.size, child.pythonIsolates),
      maxIsolates: this.options.maxIsolatesPerChild ?? DEFAULT_MAX_ISOLATES_PER_CHILD,
    });
    if (full) this.rotate(member, child);
  }

  /**
   * Takes `child` out of service without failing its work: the spare serves
   * new activations at `member`, and `child` is stopped once nothing runs
   * there any more (or what does is past its deadline and the grace, when
   * a wedged isolate would never let it drain).
   */
  private rotate(member: Member, child: WorkerdChild): void {
    if (this.stopped || member.current !== child) return;
    console.error(
      `invoker: rotating workerd child ${child.pid} at ${member.position} out ` +
        `(${child.loaded.size} isolates loaded, ${Math.round(member.baselineMb)} MB idle)`,
    );
    this.rotations++;
    member.current = undefined;
    member.active = this.serve(member, this.spare ?? this.launch());
    this.spare = this.launch();
    const stopWhenDrained = () => {
      const left = [...member.flights].filter((f) => f.child === child);
      const overdue = left.every((f) => f.deadline + WEDGE_GRACE_MS + PING_TIMEOUT_MS < Date.now());
      if (this.stopped || left.length === 0 || overdue) child.kill("stopped");
      else setTimeout(stopWhenDrained, DRAIN_CHECK_MS).unref();
    };
    stopWhenDrained();
  }

  /** After a missed deadline: a child that cannot answer a ping is wedged by a spinning isolate. */
  private async probe(member: Member, child: WorkerdChild): Promise<void> {
    if (member.current !== child) return;
    // The heartbeat has been waiting long enough already: no need for another ping.
    const waited = member.pingSentAt === undefined ? 0 : Date.now() - member.pingSentAt;
    if (waited < PING_TIMEOUT_MS && (await child.ping(PING_TIMEOUT_MS - waited))) return;
    this.replace(member, child, "deadline");
  }

  /**
   * An answer from the child shows its thread turns as well as a ping's:
   * the heartbeat's outstanding ping, held up behind the work just answered
   * (a cold start, a long synchronous run), no longer passes the child over
   * for the activation that comes right after, such as the first one in an
   * isolate just prepared there.
   */
  private answered(member: Member, child: WorkerdChild): void {
    if (member.current === child) member.pingSentAt = undefined;
  }

  /** One ping outstanding per child: how long it goes unanswered tells whether its thread turns. */
  private heartbeat(): void {
    for (const member of this.members) {
      const child = member.current;
      if (!child?.alive || member.pingSentAt !== undefined) continue;
      const sentAt = Date.now();
      member.pingSentAt = sentAt;
      void child.ping(60_000).then(() => {
        if (member.pingSentAt === sentAt) member.pingSentAt = undefined;
      });
    }
  }

  private async checkMemory(): Promise<void> {
    if (this.checkingMemory) return;
    this.checkingMemory = true;
    try {
      await Promise.all(this.members.map((member) => this.checkMemberMemory(member)));
    } finally {
      this.checkingMemory = false;
    }
  }

  private async checkMemberMemory(member: Member): Promise<void> {
    const child = member.current;
    const rssMb = child?.residentMb();
    if (!child || rssMb === undefined || member.current !== child) return;
    member.lastRssMb = rssMb;
    const flights = [...member.flights].filter((f) => f.child === child);
    if (flights.length === 0) {
      member.baselineMb = rssMb;
      this.rotateIfFull(member, child);
      if (member.current !== child) return;
    }
    const verdict = memoryVerdict({ rssMb, baselineMb: member.baselineMb, capMb: this.options.memoryLimitMb, flights });
    if (!verdict.over) return;
    const culprit = flights.find((f) => f.id === verdict.culprit);
    if (culprit) culprit.blamed = true;
    console.error(
      `invoker: workerd child ${child.pid} uses ${Math.round(rssMb)} MB, above its budget of ${Math.round(verdict.budgetMb)} MB ` +
        `(${flights.length} activation(s) in flight)`,
    );
    this.replace(member, child, "memory");
  }
}

function timeoutReply(): RunReply {
  return { outcome: "timeout", logs: [], truncated: false };
}

function lostReply(reason: LossReason): RunReply {
  return { outcome: "developer", message: LOSS_MESSAGES[reason], logs: [], truncated: false };
}
