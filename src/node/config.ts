// The environment the Node host reads: one table per process role, so the
// Kubernetes manifests can be checked against it (test/node/manifests.test.ts).

export interface EnvVar {
  name: string;
  required: boolean;
  description: string;
}

export const CONTROLLER_ENV: readonly EnvVar[] = [
  { name: "PORT", required: false, description: "HTTP port of the API (default 3000)" },
  { name: "DATABASE_URL", required: true, description: "PostgreSQL connection URL" },
  { name: "NATS_URL", required: true, description: "NATS server URL (JetStream enabled)" },
  { name: "INVOKER_URLS", required: true, description: "comma-separated base URLs of the invokers" },
  { name: "NATS_STREAM", required: false, description: "JetStream stream of activations (default EDGEWHISK)" },
  { name: "GUEST_AUTH", required: false, description: "uuid:key of the guest namespace, seeded at start" },
  { name: "WHISK_SYSTEM_AUTH", required: false, description: "uuid:key of the whisk.system namespace, seeded at start" },
];

export const INVOKER_ENV: readonly EnvVar[] = [
  { name: "PORT", required: false, description: "HTTP port the controllers call (default 8080)" },
  { name: "DATABASE_URL", required: true, description: "PostgreSQL connection URL" },
  { name: "INVOKER_URLS", required: true, description: "base URLs of all invokers (sequence components may run on another)" },
  { name: "WORKERD_MEMORY_MB", required: false, description: "resident memory cap of one workerd child (default 1024)" },
];

export const DEFAULT_CONTROLLER_PORT = 3000;
export const DEFAULT_INVOKER_PORT = 8080;

type Env = Record<string, string | undefined>;

function read(env: Env, vars: readonly EnvVar[]): Record<string, string | undefined> {
  const missing = vars.filter((v) => v.required && !env[v.name]?.trim()).map((v) => v.name);
  if (missing.length) throw new Error(`missing environment: ${missing.join(", ")}`);
  return Object.fromEntries(vars.map((v) => [v.name, env[v.name]?.trim() || undefined]));
}

function port(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 65_535) throw new Error(`PORT is not a port: ${text}`);
  return value;
}

function urlList(text: string | undefined): string[] {
  return (text ?? "").split(",").map((url) => url.trim().replace(/\/+$/, "")).filter(Boolean);
}

export interface ControllerConfig {
  port: number;
  databaseUrl: string;
  natsUrl: string;
  invokerUrls: string[];
  stream: string;
  guestAuth?: string;
  whiskSystemAuth?: string;
}

export interface InvokerConfig {
  port: number;
  databaseUrl: string;
  invokerUrls: string[];
  memoryLimitMb: number;
}

export function controllerConfig(env: Env = process.env): ControllerConfig {
  const v = read(env, CONTROLLER_ENV);
  return {
    port: port(v.PORT, DEFAULT_CONTROLLER_PORT),
    databaseUrl: v.DATABASE_URL!,
    natsUrl: v.NATS_URL!,
    invokerUrls: urlList(v.INVOKER_URLS),
    stream: v.NATS_STREAM ?? "EDGEWHISK",
    ...(v.GUEST_AUTH ? { guestAuth: v.GUEST_AUTH } : {}),
    ...(v.WHISK_SYSTEM_AUTH ? { whiskSystemAuth: v.WHISK_SYSTEM_AUTH } : {}),
  };
}

export function invokerConfig(env: Env = process.env): InvokerConfig {
  const v = read(env, INVOKER_ENV);
  const memory = Number(v.WORKERD_MEMORY_MB ?? 1024);
  if (!(memory > 0)) throw new Error(`WORKERD_MEMORY_MB is not a size in MB: ${v.WORKERD_MEMORY_MB}`);
  return {
    port: port(v.PORT, DEFAULT_INVOKER_PORT),
    databaseUrl: v.DATABASE_URL!,
    invokerUrls: urlList(v.INVOKER_URLS),
    memoryLimitMb: memory,
  };
}
