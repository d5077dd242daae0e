// Starts the real local server (`npm start`: wrangler dev with D1, Queues,
// Durable Objects and the Worker Loader) on free ports with its own state.
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface RunningServer {
  url: string;
  /** The local state directory (EDGEWHISK_STATE), for wskadmin against the running server. */
  state: string;
  stop(): Promise<void>;
  output(): string;
}

export async function waitForHttp(url: string, timeoutMs: number, isAlive: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error("server exited before answering");
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`no answer from ${url} within ${timeoutMs} ms`);
}

/** Kills a process group: TERM first, KILL if it lingers (a wedged workerd ignores TERM). */
export async function killGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  }, 3_000);
  await exited;
  clearTimeout(timer);
}

const ROOT = new URL("../..", import.meta.url).pathname;

/** Runs an npm script to completion (e.g. wskadmin), failing loudly. */
/**
 * `npm run` without blocking this process: a test that goes on using its
 * keep-alive HTTP connections afterwards must let its event loop see the
 * ones the server closed meanwhile. Blocked for seconds (npmRun, under
 * load), the client reused a connection the server had dropped after its
 * idle timeout (15 s under wrangler dev) and failed with "socket hang up".
 */
export function npmRunInBackground(args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("npm", ["run", "--silent", ...args], { cwd: ROOT, env: { ...process.env, ...env }, encoding: "utf8", maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`npm run ${args.join(" ")} failed:\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

export function npmRun(args: string[], env: Record<string, string>): string {
  const result = spawnSync("npm", ["run", "--silent", ...args], { cwd: ROOT, env: { ...process.env, ...env }, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`npm run ${args.join(" ")} failed:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/**
 * Starts `npm start` on free ports with its own state; `subjects` are extra
 * namespaces (name → uuid:key) created with wskadmin before it starts.
 */
export async function startWranglerServer(subjects: Record<string, string> = {}): Promise<RunningServer> {
  const port = await freePort();
  const state = mkdtempSync(join(tmpdir(), "edgewhisk-e2e-"));
  if (Object.keys(subjects).length) {
    migrateLocalState(state);
    for (const [namespace, auth] of Object.entries(subjects)) {
      npmRun(["wskadmin", "--", "user", "create", namespace, "--auth", auth], { EDGEWHISK_STATE: state, WRANGLER_SEND_METRICS: "false", CI: "true" });
    }
  }
  const run = await launchNpmStart(state, port);
  return {
    url: run.url,
    state,
    output: run.output,
    async stop() {
      await run.stop();
      rmSync(state, { recursive: true, force: true });
    },
  };
}

export interface LocalServerRun {
  url: string;
  child: ChildProcess;
  output(): string;
  /** Kills the whole process group at once (SIGKILL: wrangler, workerd, the sidecar), as a crash would. */
  crash(): Promise<void>;
  /** Stops it as Ctrl-C does. */
  stop(): Promise<void>;
}

/**
 * Runs `npm start` on `port` with the given state directory, which outlives
 * the run (the caller removes it): for crash and restart tests. Migrations
 * are applied by `npm start` itself.
 */
export async function launchNpmStart(state: string, port: number): Promise<LocalServerRun> {
  const inspector = await freePort();
  let log = "";
  const child = spawn("npm", ["start", "--", "--inspector-port", String(inspector), "--show-interactive-dev-session=false"], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), EDGEWHISK_STATE: state, WRANGLER_SEND_METRICS: "false", CI: "true" },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (chunk) => (log += chunk));
  child.stderr!.on("data", (chunk) => (log += chunk));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/api/v1`, 120_000, () => child.exitCode === null);
  } catch (err) {
    await killGroup(child);
    throw new Error(`${(err as Error).message}\n${log}`);
  }
  return {
    url,
    child,
    output: () => log,
    async crash() {
      if (child.exitCode !== null || child.pid === undefined) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      process.kill(-child.pid, "SIGKILL");
      await exited;
    },
    stop: () => killGroup(child),
  };
}

/** Applies the D1 migrations to a local state directory (before wskadmin may write to it). */
export function migrateLocalState(state: string): void {
  const migrated = spawnSync(join(ROOT, "node_modules/.bin/wrangler"), ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state], {
    cwd: ROOT,
    env: { ...process.env, EDGEWHISK_STATE: state, WRANGLER_SEND_METRICS: "false", CI: "true" },
    encoding: "utf8",
  });
  if (migrated.status !== 0) throw new Error(`migrations failed:\n${migrated.stdout}\n${migrated.stderr}`);
}
