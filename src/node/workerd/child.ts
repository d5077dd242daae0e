// One workerd process serving host-worker.js on a unix socket, with a Worker
// Loader binding for action isolates. The supervisor owns its life: it is
// killed (SIGKILL; a spinning isolate ignores anything gentler) and
// replaced, never repaired.
//
// Its configuration is also the wall around action code: the isolates'
// only way out is host-worker.js's Gateway, whose networks reach the public
// internet (and what EGRESS_ALLOW names), and whose "platform" service
// reaches only the controllers.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, openSync, readSync } from "node:fs";
import { copyFile, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import http from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { RunReply } from "../../runtime/protocol.js";
import { deniedCidrs } from "../../core/egress.js";
import { cidrsOverlap, parseCidr } from "../../core/ip.js";
import type { EgressAllowance } from "../config.js";

const HOST_WORKER = fileURLToPath(new URL("./host-worker.js", import.meta.url));
/** What scripts/build-python.mjs prepares: the Pyodide files and the memory snapshot Python isolates boot from. */
export const PYTHON_FILES_DIR = fileURLToPath(new URL("../../../node_modules/.cache/edgewhisk-python/", import.meta.url));
const READY_TIMEOUT_MS = 20_000;
const OUTPUT_TAIL_CHARS = 4_000;

/** The workerd binary shipped by the npm package (its main module exports the path). */
export function workerdBinary(): string {
  return (createRequire(import.meta.url)("workerd") as { default: string }).default;
}

export type LossReason = "deadline" | "memory" | "crashed" | "stopped";

/** The child went away while a request was on it. */
export class ChildLost extends Error {
  constructor(readonly reason: LossReason) {
    super(`workerd child lost (${reason})`);
  }
}

export interface RunBody {
  id: string;
  mainModule?: string;
  modules?: Record<string, unknown>;
  /** A Python isolate: the host worker adds the Pyodide modules. */
  python?: boolean;
  compatibilityDate: string;
  /** The isolate's loader flags (src/invoker/code-generation.ts), sent with its modules. */
  compatibilityFlags?: string[];
  allowExperimental?: true;
  request: unknown;
}

/** host-worker.js's answer; an error may be a failed start, which the supervisor tells apart (src/invoker/worker-loader.ts). */
export type RunAnswer = { reply: RunReply; cold: boolean } | { missing: true } | { error: string };

/** Where action isolates may connect besides the public internet. */
export interface Egress {
  /** Origin of the controllers: actions' requests to their API host go there, never to the API host as given. */
  controllerUrl?: string;
  /** What the operator opened (EGRESS_ALLOW). */
  allow?: EgressAllowance;
  /** Blocks refused besides those workerd's "public" excludes: EGRESS_DENY, the platform's own addresses. */
  deny?: string[];
}

/**
 * Refused even where EGRESS_ALLOW would open them: link-local, where cloud
 * metadata servers answer (169.254.169.254, fd00:ec2::254). workerd's
 * "public" alone already refuses these, loopback (also IPv4-mapped, 127.1,
 * 0.0.0.0), RFC 1918, CGNAT (100.64/10) and unique-local (fc00::/7)
 * addresses; test/node/walls.test.ts keeps checking that.
 */
const ALWAYS_DENIED = ["169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128"];

/**
 * The ranges the egress policy of both hosts denies (src/core/egress.ts),
 * but those an EGRESS_ALLOW block reopens: workerd's "public" lets some of
 * them through (measured: 192.0.2.0/24, 198.18.0.0/15, 203.0.113.0/24,
 * 2001:db8::/32, fec0::/10, ::/96), and a cluster may use them for pods
 * or Services.
 */
function policyDenied(allowed: readonly string[]): string[] {
  const opened = allowed.map((text) => parseCidr(text)).filter((cidr) => cidr !== undefined);
  return deniedCidrs().filter((text) => !opened.some((cidr) => cidrsOverlap(cidr, parseCidr(text)!)));
}

const text = (value: string) => JSON.stringify(value);
const list = (values: readonly string[]) => `[${values.map(text).join(", ")}]`;

function network(allow: readonly string[], deny: readonly string[]): string {
  return `network = (allow = ${list(allow)}, deny = ${list(deny)}, tlsOptions = (trustBrowserCas = true))`;
}

function platformService(controllerUrl: string): string {
  const url = new URL(controllerUrl);
  const protocol = url.protocol === "https:" ? "https = (tlsOptions = (trustBrowserCas = true))" : "http = ()";
  return `(name = "platform", external = (address = ${text(url.host)}, ${protocol})),`;
}

/**
 * `pythonDir`, when set, is where the child finds the Pyodide files and
 * memory snapshot: a read-only disk service only the host worker is bound
 * to. CPython's wasm is also a module of the host worker (linked beside the
 * config as pyodide.asm.wasm), compiled once when the child starts: Python
 * isolates given that module share its code, where bytes would be compiled
 * again for each (0.1-0.3 s of every cold start). It costs the child ~50 MB
 * from its start, Python or not, and each Python isolate less than it did.
 */
export function configText(socketPath: string, compatibilityDate: string, egress: Egress = {}, pythonDir?: string): string {
  const destinations = egress.allow?.destinations ?? [];
  const cidrs = egress.allow?.cidrs ?? [];
  const deny = [...ALWAYS_DENIED, ...(egress.deny ?? [])];
  const services = [
    `(name = "internet", ${network(["public", ...cidrs], [...deny, ...policyDenied(cidrs)])}),`,
    // Named destinations: the operator vouches for what they resolve to
    // (EGRESS_ALLOW itself refuses loopback, metadata and platform names).
    ...(destinations.length ? [`(name = "named", ${network(["public", "private", "local"], deny)}),`] : []),
    ...(egress.controllerUrl ? [platformService(egress.controllerUrl)] : []),
    ...(pythonDir ? [`(name = "python-files", disk = (path = ${text(pythonDir)}, writable = false)),`] : []),
  ];
  const bindings = [
    `(name = "LOADER", workerLoader = ())`,
    `(name = "INTERNET", service = "internet")`,
    ...(destinations.length ? [`(name = "NAMED", service = "named")`, `(name = "DESTINATIONS", json = ${text(JSON.stringify(destinations))})`] : []),
    ...(egress.controllerUrl ? [`(name = "PLATFORM", service = "platform")`] : []),
    ...(pythonDir ? [`(name = "PYTHON_FILES", service = "python-files")`] : []),
  ];
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "host", worker = .hostWorker),
    ${services.join("\n    ")}
  ],
  sockets = [ (name = "http", address = ${text(`unix:${socketPath}`)}, http = (), service = "host") ],
);
# ctx.exports (the Gateway entrypoint) is on by default since 2025-11-17.
# "experimental" lets it pass allowExperimental to the loader, which an
# isolate granted eval needs (src/invoker/code-generation.ts); it grants
# this worker itself no eval.
const hostWorker :Workerd.Worker = (
  modules = [ (name = "host-worker.js", esModule = embed "host-worker.js")${pythonDir ? `, (name = "pyodide.asm.wasm", wasm = embed "pyodide.asm.wasm")` : ""} ],
  compatibilityDate = ${text(compatibilityDate)},
  compatibilityFlags = ["nodejs_compat", "experimental"],
  bindings = [ ${bindings.join(", ")} ],
);
`;
}

/** Where residentMb reads /proc/<pid>/status (about 1.5 KB), shared: reads are synchronous. */
const STATUS_BUFFER = Buffer.alloc(8192);

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Children still running when this process exits, however it exits short of
 * SIGKILL (a signal handler's process.exit, a test worker ending): they are
 * SIGKILLed then. Otherwise a child that outlives its supervisor keeps
 * running, unsupervised, holding its memory; test runs left them behind by
 * the hundred.
 */
const running = new Set<ChildProcess>();
let reaperInstalled = false;

function reapOnExit(child: ChildProcess): void {
  running.add(child);
  child.once("exit", () => running.delete(child));
  if (reaperInstalled) return;
  reaperInstalled = true;
  process.once("exit", () => {
    for (const orphan of running) {
      try {
        orphan.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
  });
}

export class WorkerdChild {
  /** Isolate ids this child has been sent the module set for. */
  readonly loaded = new Set<string>();
  /** How many of them are Python isolates (they weigh more: placement.ts). */
  pythonIsolates = 0;
  lossReason?: LossReason;
  readonly exited: Promise<void>;
  /** Resident memory once it first served: its runtime alone, before any isolate. */
  readyRssMb = 0;
  /** How long it took from spawn to serving. */
  startMs = 0;
  private readonly agent = new http.Agent({ keepAlive: true });
  private output = "";
  /** /proc/<pid>/status, open for the child's life (a dead process's reads fail; a reused pid is never read). */
  private statusFd?: number;

  private constructor(
    private readonly process: ChildProcess,
    private readonly dir: string,
    private readonly socketPath: string,
  ) {
    this.exited = new Promise((resolve) => process.once("exit", () => resolve()));
    const forward = (chunk: Buffer) => {
      const text = chunk.toString();
      this.output = (this.output + text).slice(-OUTPUT_TAIL_CHARS);
      for (const line of text.split("\n")) if (line.trim()) console.error(`[workerd ${process.pid}] ${line}`);
    };
    process.stdout!.on("data", forward);
    process.stderr!.on("data", forward);
    try {
      this.statusFd = openSync(`/proc/${process.pid}/status`, "r");
    } catch {
      // No /proc: memory is not known (residentMb answers undefined).
    }
    void this.exited.then(() => {
      this.agent.destroy();
      if (this.statusFd !== undefined) closeSync(this.statusFd);
      this.statusFd = undefined;
      return rm(dir, { recursive: true, force: true });
    });
  }

  static async start(options: { binary: string; compatibilityDate: string; egress?: Egress }): Promise<WorkerdChild> {
    const started = Date.now();
    const dir = await mkdtemp(join(tmpdir(), "edgewhisk-workerd-"));
    const socketPath = join(dir, "host.sock");
    await copyFile(HOST_WORKER, join(dir, "host-worker.js"));
    const pythonDir = existsSync(join(PYTHON_FILES_DIR, "stamp.txt")) ? PYTHON_FILES_DIR : undefined;
    // Embedded as a module of the host worker (configText), whose compiled code every Python isolate then shares.
    if (pythonDir) await symlink(join(pythonDir, "pyodide.asm.wasm"), join(dir, "pyodide.asm.wasm"));
    await writeFile(join(dir, "config.capnp"), configText(socketPath, options.compatibilityDate, options.egress, pythonDir));
    // No environment: the invoker's holds its secret and the database password.
    const child = spawn(options.binary, ["serve", "--experimental", join(dir, "config.capnp")], {
      stdio: ["ignore", "pipe", "pipe"],
      env: {},
    });
    reapOnExit(child);
    const workerd = new WorkerdChild(child, dir, socketPath);
    // Should the pod reach its memory limit before the supervisor acts, the
    // kernel is to kill a child (which the supervisor replaces), not the
    // supervisor. Raising one's own score needs no privilege; best effort.
    await writeFile(`/proc/${child.pid}/oom_score_adj`, "800").catch(() => undefined);
    await workerd.ready();
    workerd.startMs = Date.now() - started;
    workerd.readyRssMb = workerd.residentMb() ?? 0;
    return workerd;
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  get alive(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  private async ready(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (!this.alive) throw new Error(`workerd exited while starting:\n${this.output}`);
      if (await this.ping(1_000)) return;
      await delay(100);
    }
    this.kill("stopped");
    throw new Error(`workerd did not answer within ${READY_TIMEOUT_MS} ms:\n${this.output}`);
  }

  /** True when the host worker answers within `timeoutMs`: its event loop is not wedged. */
  async ping(timeoutMs: number): Promise<boolean> {
    try {
      const { status } = await this.request("GET", "/ping", undefined, timeoutMs);
      return status === 200;
    } catch {
      return false;
    }
  }

  async run(body: RunBody): Promise<RunAnswer> {
    try {
      const { text } = await this.request("POST", "/run", JSON.stringify(body));
      return JSON.parse(text) as RunAnswer;
    } catch (err) {
      // A killed child breaks its connections a moment before it reports its exit.
      await Promise.race([this.exited, delay(1_000)]);
      if (!this.alive || this.lossReason) throw new ChildLost(this.lossReason ?? "crashed");
      throw err;
    }
  }

  kill(reason: LossReason): void {
    this.lossReason ??= reason;
    if (this.alive) this.process.kill("SIGKILL");
  }

  /**
   * Resident memory in MB, from /proc (undefined once the process is gone).
   * Read synchronously: every activation reads it as it starts, and reading
   * a /proc file through the thread pool took 2-7 ms of the run's path on a
   * loaded machine, where this takes tens of microseconds.
   */
  residentMb(): number | undefined {
    if (this.statusFd === undefined) return undefined;
    try {
      const read = readSync(this.statusFd, STATUS_BUFFER, 0, STATUS_BUFFER.length, 0);
      const kb = Number(/^VmRSS:\s+(\d+)/m.exec(STATUS_BUFFER.toString("latin1", 0, read))?.[1]);
      return Number.isFinite(kb) ? kb / 1024 : undefined;
    } catch {
      return undefined;
    }
  }

  private request(method: string, path: string, body?: string, timeoutMs?: number): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        { socketPath: this.socketPath, path, method, agent: this.agent, headers: { "content-type": "application/json" } },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => (text += chunk));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      if (timeoutMs !== undefined) req.setTimeout(timeoutMs, () => req.destroy(new Error("timed out")));
      req.end(body);
    });
  }
}
