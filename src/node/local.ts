// `npm run start:node`: the Node host on one machine, one controller and one
// invoker process (with its workerd child), against the PostgreSQL and NATS
// given by DATABASE_URL and NATS_URL. The controller applies the migrations
// and seeds GUEST_AUTH (by default the development key `npm start` uses,
// from .dev.vars). Ctrl-C stops both. The invoker announces itself through
// NATS (the controller needs no list of invokers), listens on loopback only
// and takes calls only with this run's random INVOKER_SECRET.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { DEFAULT_CONTROLLER_PORT } from "./config.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function developmentGuestKey(): string | undefined {
  const file = `${ROOT}.dev.vars`;
  if (!existsSync(file)) return undefined;
  return /^GUEST_AUTH="?([^"\n]+)"?/m.exec(readFileSync(file, "utf8"))?.[1];
}

async function waitUntilServing(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`${url}: the process exited (${child.exitCode})`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not answer`);
}

const missing = ["DATABASE_URL", "NATS_URL"].filter((name) => !process.env[name]);
if (missing.length) {
  console.error(`start:node needs ${missing.join(" and ")}, e.g.
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres NATS_URL=nats://127.0.0.1:4222 npm run start:node`);
  process.exit(2);
}

const port = process.env.PORT ?? String(DEFAULT_CONTROLLER_PORT);
const invokerPort = await freePort();
const invokerUrl = `http://127.0.0.1:${invokerPort}`;
const guestAuth = process.env.GUEST_AUTH ?? developmentGuestKey();
const invokerSecret = randomBytes(32).toString("hex");
const controllerUrl = `http://127.0.0.1:${port}`;
const children: ChildProcess[] = [];

function start(role: "controller" | "invoker", env: Record<string, string | undefined>): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "src/node/main.ts", role], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: "inherit",
  });
  children.push(child);
  child.once("exit", (code, signal) => {
    if (stopping) return;
    console.error(`${role} exited (${signal ?? code}); stopping`);
    stop(code ?? 1);
  });
  return child;
}

let stopping = false;
function stop(code: number): void {
  stopping = true;
  const running = children.filter((child) => child.exitCode === null && child.signalCode === null);
  for (const child of running) child.kill("SIGTERM");
  void Promise.all(running.map((child) => new Promise((resolve) => child.once("exit", resolve)))).then(() => process.exit(code));
}
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));

const invoker = start("invoker", {
  PORT: String(invokerPort),
  LISTEN_HOST: "127.0.0.1",
  // One id for every run: a restart resumes the queue the last run left.
  INVOKER_ID: "local-0",
  INVOKER_ADVERTISE_URL: invokerUrl,
  INVOKER_SECRET: invokerSecret,
  CONTROLLER_URL: controllerUrl,
});
await waitUntilServing(`${invokerUrl}/healthz`, invoker);
const opsPort = process.env.OPS_PORT ?? String(await freePort());
const controller = start("controller", { PORT: port, OPS_PORT: opsPort, INVOKER_SECRET: invokerSecret, GUEST_AUTH: guestAuth });
await waitUntilServing(`${controllerUrl}/healthz`, controller);
console.log(`edgewhisk (Node host) is serving on ${controllerUrl} (/readyz and /metrics on http://127.0.0.1:${opsPort})`);
