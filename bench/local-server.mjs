// What the hand-run benchmarks share: `npm start` on free ports with a state
// directory of its own, and wskadmin against that state.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ROOT = new URL("..", import.meta.url).pathname;

export const freePort = () =>
  new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

export async function waitFor(url) {
  for (let i = 0; i < 480; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no answer from ${url}`);
}

/** `npm start` in its own process group and state; `stop()` kills the group and removes the state. */
export async function startLocalServer(prefix) {
  const state = mkdtempSync(join(tmpdir(), prefix));
  const [port, inspector] = await Promise.all([freePort(), freePort()]);
  const child = spawn("npm", ["start", "--", "--inspector-port", String(inspector), "--show-interactive-dev-session=false"], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), EDGEWHISK_STATE: state, WRANGLER_SEND_METRICS: "false" },
    detached: true,
    stdio: "ignore",
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = () => {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
    rmSync(state, { recursive: true, force: true });
  };
  try {
    await waitFor(`${url}/api/v1`);
  } catch (err) {
    stop();
    throw err;
  }
  /** Runs `wskadmin ...args` against this server's state; throws when it fails. */
  const wskadmin = (...args) => {
    const done = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "scripts/wskadmin.ts"), ...args], {
      cwd: ROOT,
      env: { ...process.env, EDGEWHISK_STATE: state },
      stdio: ["ignore", "ignore", "inherit"],
    });
    if (done.status !== 0) throw new Error(`wskadmin ${args.join(" ")} failed`);
  };
  return { url, pgid: child.pid, state, wskadmin, stop };
}
