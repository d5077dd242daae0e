// One workerd process serving host-worker.js on a unix socket, with a Worker
// Loader binding for action isolates. The supervisor owns its life: it is
// killed (SIGKILL; a spinning isolate ignores anything gentler) and
// replaced, never repaired.
import { spawn, type ChildProcess } from "node:child_process";
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { RunReply } from "../../runtime/protocol.js";

const HOST_WORKER = fileURLToPath(new URL("./host-worker.js", import.meta.url));
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
  compatibilityDate: string;
  request: unknown;
}

export type RunAnswer =
  | { reply: RunReply; cold: boolean }
  | { missing: true }
  | { startError: string }
  | { error: string };

function configText(socketPath: string, compatibilityDate: string): string {
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "host", worker = .hostWorker),
    # Actions may call anything the invoker pod can reach, as in OpenWhisk:
    # the public internet and the cluster (the platform's own API included).
    (name = "outbound", network = (allow = ["public", "private", "local"], tlsOptions = (trustBrowserCas = true))),
  ],
  sockets = [ (name = "http", address = "unix:${socketPath}", http = (), service = "host") ],
);
const hostWorker :Workerd.Worker = (
  modules = [ (name = "host-worker.js", esModule = embed "host-worker.js") ],
  compatibilityDate = "${compatibilityDate}",
  compatibilityFlags = ["nodejs_compat"],
  bindings = [ (name = "LOADER", workerLoader = ()), (name = "OUTBOUND", service = "outbound") ],
);
`;
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class WorkerdChild {
  /** Isolate ids this child has been sent the module set for. */
  readonly loaded = new Set<string>();
  lossReason?: LossReason;
  readonly exited: Promise<void>;
  private readonly agent = new http.Agent({ keepAlive: true });
  private output = "";

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
    void this.exited.then(() => {
      this.agent.destroy();
      return rm(dir, { recursive: true, force: true });
    });
  }

  static async start(options: { binary: string; compatibilityDate: string }): Promise<WorkerdChild> {
    const dir = await mkdtemp(join(tmpdir(), "edgewhisk-workerd-"));
    const socketPath = join(dir, "host.sock");
    await copyFile(HOST_WORKER, join(dir, "host-worker.js"));
    await writeFile(join(dir, "config.capnp"), configText(socketPath, options.compatibilityDate));
    const child = spawn(options.binary, ["serve", "--experimental", join(dir, "config.capnp")], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const workerd = new WorkerdChild(child, dir, socketPath);
    await workerd.ready();
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

  /** Resident memory in MB, from /proc (undefined once the process is gone). */
  async residentMb(): Promise<number | undefined> {
    try {
      const status = await readFile(`/proc/${this.process.pid}/status`, "utf8");
      const kb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1]);
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
