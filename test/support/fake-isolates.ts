// An IsolateHost for the fast tier: each action is a JS function registered
// by its fully qualified name, run in-process with the runner's contract
// (src/runtime/isolate/runner.js): a thrown error is a developer error, a
// rejected promise an application error, a non-object result refused,
// console lines kept up to the log limit, the deadline answered as a
// timeout; a preparation (RunRequest.prepare) starts the isolate and runs
// nothing, and the first activation in an isolate reports its initMs. It
// records every run and can fail an isolate's start or crash it.
import type { IsolateHost, IsolateRun, IsolateSpec } from "../../src/ports/isolate-host.js";
import { IsolateStartError } from "../../src/ports/isolate-host.js";
import type { ActionModules } from "../../src/runtime/modules.js";
import type { RunReply, RunRequest } from "../../src/runtime/protocol.js";

export interface FakeActivation {
  request: RunRequest;
  cold: boolean;
  /** console.log (stdout) or console.error (stderr) inside the action. */
  log(text: string, stream?: "stdout" | "stderr"): void;
}

export type FakeAction = (params: Record<string, unknown>, activation: FakeActivation) => unknown;

/** Thrown by a fake action: the isolate dies mid-run (a killed workerd child, a lost RPC). */
export class IsolateCrash extends Error {}

export interface FakeRun {
  key: string;
  /** `/ns/pkg/name` of the action that ran. */
  actionName: string;
  cold: boolean;
  request: RunRequest;
  /** What the runner answered; undefined when the run threw (start failure, crash). */
  reply?: RunReply;
}

export class FakeIsolates implements IsolateHost {
  readonly runs: FakeRun[] = [];
  /** Isolates started ahead of their first activation (RunRequest.prepare), by key, in order. */
  readonly prepared: string[] = [];
  readonly discarded: string[] = [];
  /** The module set each cold start built, by isolate key. */
  readonly built = new Map<string, ActionModules>();
  private readonly actions = new Map<string, FakeAction>();
  private readonly warm = new Set<string>();
  /** Isolates whose first activation has run (the runner's initialisation). */
  private readonly initialized = new Set<string>();

  /** Registers the function that runs for `actionName` (`/ns/name` or `/ns/pkg/name`). */
  define(actionName: string, action: FakeAction): this {
    this.actions.set(actionName, action);
    return this;
  }

  /** Forgets every warm isolate, as a host evicting idle ones would (not a discard by the invoker). */
  evictAll(): void {
    this.warm.clear();
    this.initialized.clear();
  }

  discard(key: string): void {
    this.discarded.push(key);
    this.warm.delete(key);
    this.initialized.delete(key);
  }

  async run(spec: IsolateSpec, request: RunRequest): Promise<IsolateRun> {
    const cold = !this.warm.has(spec.key);
    if (request.prepare) {
      this.prepared.push(spec.key);
      if (cold) {
        this.built.set(spec.key, await spec.build());
        this.warm.add(spec.key);
      }
      return { reply: { outcome: "prepared", logs: [], truncated: false }, cold };
    }
    const run: FakeRun = { key: spec.key, actionName: request.actionName, cold, request };
    this.runs.push(run);
    const action = this.actions.get(request.actionName);
    if (!action) throw new IsolateStartError(`no fake action defined for ${request.actionName}`);
    if (cold) {
      this.built.set(spec.key, await spec.build());
      this.warm.add(spec.key);
    }
    const reply = await runAction(action, request, cold);
    if (!this.initialized.has(spec.key)) {
      this.initialized.add(spec.key);
      reply.initMs = 0;
    }
    run.reply = reply;
    return { reply, cold };
  }

  /** The runs of one action, in order. */
  runsOf(actionName: string): FakeRun[] {
    return this.runs.filter((run) => run.actionName === actionName);
  }
}

async function runAction(action: FakeAction, request: RunRequest, cold: boolean): Promise<RunReply> {
  const logs = new Logs(request.logLimitBytes);
  const started = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<{ outcome: "timeout" }>((resolve) => {
    timer = setTimeout(() => resolve({ outcome: "timeout" }), Math.max(0, request.deadline - Date.now()));
  });
  try {
    const outcome = await Promise.race([execute(action, request, { request, cold, log: (text, stream) => logs.write(text, stream) }), deadline]);
    return { ...outcome, logs: logs.lines, truncated: logs.truncated, runMs: Date.now() - started } as RunReply;
  } finally {
    clearTimeout(timer);
  }
}

type Outcome = { outcome: "result"; result: unknown } | { outcome: "developer"; message: string };

async function execute(action: FakeAction, request: RunRequest, activation: FakeActivation): Promise<Outcome> {
  let pending: unknown;
  try {
    pending = action(request.params, activation);
  } catch (err) {
    if (err instanceof IsolateCrash || err instanceof IsolateStartError) throw err;
    return { outcome: "developer", message: `An error has occurred: ${err}` };
  }
  let result: unknown;
  try {
    result = await pending;
  } catch (err) {
    if (err instanceof IsolateCrash || err instanceof IsolateStartError) throw err;
    return { outcome: "result", result: { error: err instanceof Error ? { message: err.message } : err } };
  }
  if (result === undefined) return { outcome: "result", result: {} };
  if (typeof result !== "object") return { outcome: "developer", message: "The action did not return a dictionary." };
  return { outcome: "result", result: JSON.parse(JSON.stringify(result)) };
}

/** Log lines as the runner stores them, the limit counting whole stored lines. */
class Logs {
  readonly lines: string[] = [];
  truncated = false;
  private bytes = 0;

  constructor(private readonly limitBytes: number) {}

  write(text: string, stream: "stdout" | "stderr" = "stdout"): void {
    if (this.truncated) return;
    const line = `${new Date().toISOString()} ${stream}: ${text}`;
    const size = new TextEncoder().encode(line).length;
    if (this.bytes + size > this.limitBytes) {
      this.truncated = true;
      return;
    }
    this.bytes += size;
    this.lines.push(line);
  }
}
