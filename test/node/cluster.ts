// The Node host as separate processes on loopback, as the Kubernetes
// manifests run it: controllers and invokers (each invoker with its workerd
// children) against a database and a JetStream stream of their own; the
// invokers find each other and the controllers through their heartbeats.
// As local.ts does, invokers listen on loopback and require a secret made
// for this cluster.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { seedSubject } from "../../src/store/seed.js";
import { SqlStore } from "../../src/store/sql-store.js";
import { createPool, PostgresSql } from "../../src/node/postgres.js";
import { GUEST_KEY, OTHER_KEY, OTHER_NAMESPACE } from "../e2e/scenarios.js";
import { freePort, killGroup, waitForHttp } from "../e2e/server.js";
import { createTestDatabase, testStreamName, type TestServices } from "./services.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export class HostProcess {
  private child?: ChildProcess;
  private log = "";

  constructor(
    readonly role: "controller" | "invoker",
    readonly port: number,
    private readonly env: Record<string, string>,
    /** A controller's operations port (/readyz, /metrics); an invoker serves them on its own port. */
    readonly opsPort?: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Where this process answers /readyz and /metrics. */
  get opsUrl(): string {
    return `http://127.0.0.1:${this.opsPort ?? this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, ["--import", "tsx", "src/node/main.ts", this.role], {
      cwd: ROOT,
      env: {
        ...process.env,
        ...this.env,
        PORT: String(this.port),
        ...(this.opsPort === undefined ? {} : { OPS_PORT: String(this.opsPort) }),
      },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    child.stdout!.on("data", (chunk) => (this.log += chunk));
    child.stderr!.on("data", (chunk) => (this.log += chunk));
    try {
      await waitForHttp(`${this.url}/healthz`, 60_000, () => child.exitCode === null && child.signalCode === null);
    } catch (err) {
      await this.kill();
      throw new Error(`${this.role} on ${this.port}: ${(err as Error).message}\n${this.log}`);
    }
  }

  /** SIGKILL to the whole process group: the process and its workerd children die at once. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    process.kill(-child.pid!, "SIGKILL");
    await exited;
  }

  /**
   * SIGTERM to the process alone, as Kubernetes stops a pod's main process
   * (its workerd children keep running until it stops them); resolves when
   * it has exited, KILLing the group after `graceMs`.
   */
  async terminate(graceMs = 30_000): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    process.kill(child.pid!, "SIGTERM");
    const timer = setTimeout(() => void this.kill(), graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** SIGTERM (drain), then KILL if it lingers. */
  async stop(): Promise<void> {
    if (this.child) await killGroup(this.child);
  }

  /** Signals the process alone, as the kubelet does (not its workerd children); resolves with its exit code. */
  async signal(signal: NodeJS.Signals): Promise<number | null> {
    const child = this.child!;
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill(signal);
    return exited;
  }

  output(): string {
    return this.log;
  }

  async health(): Promise<{ inFlight: number; restarts: number; ready: boolean; recorded: number; duplicates: number } | undefined> {
    try {
      const res = await fetch(`${this.url}/healthz`);
      return res.headers.get("content-type")?.includes("json") ? await res.json() : undefined;
    } catch {
      return undefined;
    }
  }
}

export interface NodeCluster {
  controllers: HostProcess[];
  invokers: HostProcess[];
  /** Starts one more invoker (its id `invoker-<n>`) into the running cluster. */
  addInvoker(): Promise<HostProcess>;
  /** The INVOKER_SECRET controllers and invokers share. */
  invokerSecret: string;
  /** The cluster's own PostgreSQL database (for what an operator does with wskadmin). */
  databaseUrl: string;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  controllers: number;
  invokers: number;
  /** More environment for the invokers (EGRESS_ALLOW, say) and the controllers (API_HOST). */
  invokerEnv?: Record<string, string>;
  controllerEnv?: Record<string, string>;
}

export async function startCluster(services: TestServices, options: ClusterOptions = { controllers: 2, invokers: 2 }): Promise<NodeCluster> {
  const database = await createTestDatabase(services);
  const stream = testStreamName(services);
  const invokerPorts = await Promise.all(Array.from({ length: options.invokers }, () => freePort()));
  const controllerPorts = await Promise.all(Array.from({ length: options.controllers }, () => freePort()));
  const invokerSecret = randomBytes(32).toString("hex");
  const common = { DATABASE_URL: database.url, NATS_URL: services.natsUrl, NATS_STREAM: stream.name, INVOKER_SECRET: invokerSecret };
  const invokerEnv = {
    ...common,
    LISTEN_HOST: "127.0.0.1",
    // The first controller serves the actions' API calls (a Service spreads them in Kubernetes).
    CONTROLLER_URL: `http://127.0.0.1:${controllerPorts[0]}`,
    WORKERD_MEMORY_MB: "512", WORKERD_CHILDREN: "2",
    ...options.invokerEnv,
  };
  const invoker = (port: number, n: number) =>
    new HostProcess("invoker", port, { ...invokerEnv, INVOKER_ID: `invoker-${n}`, INVOKER_ADVERTISE_URL: `http://127.0.0.1:${port}` });
  const invokers = invokerPorts.map(invoker);
  const controllerOpsPorts = await Promise.all(controllerPorts.map(() => freePort()));
  const controllers = controllerPorts.map(
    (port, n) =>
      new HostProcess(
        "controller",
        port,
        {
          ...common,
          GUEST_AUTH: GUEST_KEY,
          ...options.controllerEnv,
        },
        controllerOpsPorts[n],
      ),
  );
  const all = [...invokers, ...controllers];
  const addInvoker = async () => {
    const added = invoker(await freePort(), invokers.length);
    invokers.push(added);
    all.push(added);
    await added.start();
    return added;
  };
  const stop = async () => {
    await Promise.all(all.map((p) => p.stop()));
    await stream.drop();
    await database.drop();
  };
  try {
    // Both controllers at once: they race to apply the migrations.
    await Promise.all(all.map((p) => p.start()));
    // The second namespace of the shared scenarios (an operator's wskadmin step).
    const pool = createPool(database.url, 1);
    await seedSubject(new SqlStore(new PostgresSql(pool)), OTHER_KEY, OTHER_NAMESPACE).finally(() => pool.end());
  } catch (err) {
    await stop();
    throw err;
  }
  return { controllers, invokers, addInvoker, invokerSecret, databaseUrl: database.url, stop };
}
