// The environment the Node host reads: one table per process role, so the
// Kubernetes manifests can be checked against it (test/node/manifests.test.ts).
import os from "node:os";
import { apiOrigin, parseEgressRules } from "../core/egress.js";
import { INVOKER_ID } from "../core/invoker-membership.js";
import { formatCidr } from "../core/ip.js";
import { activationRetentionMs } from "../store/retention.js";
import { KEEP_ALIVE_TIMEOUT_MS } from "./serve.js";

export interface EnvVar {
  name: string;
  required: boolean;
  description: string;
}

export const CONTROLLER_ENV: readonly EnvVar[] = [
  { name: "PORT", required: false, description: "HTTP port of the API (default 3000)" },
  {
    name: "OPS_PORT",
    required: false,
    description: "HTTP port of /readyz and /metrics (default 9090), apart from the API's so the public load balancer never serves them",
  },
  { name: "DRAIN_TIMEOUT_MS", required: false, description: "longest a SIGTERM drain waits for work in hand before exiting (default 60000)" },
  {
    name: "KEEP_ALIVE_TIMEOUT_MS",
    required: false,
    description: "how long the API's port keeps an idle keep-alive connection (default 65000); above the idle timeout of any proxy in front",
  },
  { name: "DATABASE_URL", required: true, description: "PostgreSQL connection URL" },
  { name: "NATS_URL", required: true, description: "NATS server URL (JetStream enabled)" },
  { name: "INVOKER_SECRET", required: true, description: "shared secret the invokers require of every call (Authorization: Bearer)" },
  { name: "API_HOST", required: false, description: "the API's public URL, what actions see as __OW_API_HOST (default: the origin each request came in on)" },
  { name: "NATS_STREAM", required: false, description: "JetStream stream of activations (default EDGEWHISK)" },
  { name: "GUEST_AUTH", required: false, description: "uuid:key of the guest namespace, seeded at start" },
  { name: "WHISK_SYSTEM_AUTH", required: false, description: "uuid:key of the whisk.system namespace, seeded at start" },
  { name: "ACTIVATION_RETENTION_DAYS", required: false, description: "days activation records are kept (default 7)" },
  { name: "CONTROLLER_CONCURRENCY", required: false, description: "trigger fires one controller carries out at once (default 32)" },
];

export const INVOKER_ENV: readonly EnvVar[] = [
  { name: "PORT", required: false, description: "HTTP port the controllers call (default 8080)" },
  { name: "DRAIN_TIMEOUT_MS", required: false, description: "longest a SIGTERM drain waits for activations in hand before exiting (default 330000)" },
  { name: "LISTEN_HOST", required: false, description: "address the HTTP port is bound to (default: all interfaces)" },
  { name: "DATABASE_URL", required: true, description: "PostgreSQL connection URL" },
  { name: "NATS_URL", required: true, description: "NATS server URL (JetStream enabled): the invoker's queue and the membership heartbeats" },
  { name: "NATS_STREAM", required: false, description: "JetStream stream of activations, as the controllers' (default EDGEWHISK)" },
  { name: "INVOKER_ID", required: false, description: "stable id of this invoker, naming its queue (default: the host name, a StatefulSet pod's name)" },
  {
    name: "INVOKER_ADVERTISE_URL",
    required: false,
    description: "base URL controllers and other invokers call this invoker on (default http://<host name>:<PORT>)",
  },
  { name: "INVOKER_CONCURRENCY", required: false, description: "activations this invoker runs at once; it announces the slots left (default 32)" },
  { name: "INVOKER_SECRET", required: true, description: "shared secret required of every call but GET /healthz, and sent to other invokers" },
  { name: "CONTROLLER_URL", required: true, description: "internal URL of the controllers, where actions' requests to their API host go" },
  {
    name: "EGRESS_ALLOW",
    required: false,
    description: "comma-separated CIDRs or host[:port] actions may reach besides the public internet (never platform components)",
  },
  {
    name: "EGRESS_DENY",
    required: false,
    description: "comma-separated CIDRs actions may never reach though public, e.g. the cluster's Service range when it is not private",
  },
  { name: "KUBERNETES_SERVICE_HOST", required: false, description: "set by Kubernetes: the API server's Service address, denied to actions" },
  { name: "WORKERD_MEMORY_MB", required: false, description: "hard cap on the resident memory of one workerd child, whatever runs there (default 1024)" },
  {
    name: "WORKERD_CHILDREN",
    required: false,
    description: "workerd children running actions at once (default 4), plus one spare; a spinning or memory-hungry action stalls or loses only its own",
  },
];

export const DEFAULT_CONTROLLER_PORT = 3000;
export const DEFAULT_INVOKER_PORT = 8080;
export const DEFAULT_OPS_PORT = 9090;
const DEFAULT_STREAM = "EDGEWHISK";
const DEFAULT_CONCURRENCY = 32;

type Env = Record<string, string | undefined>;

function read(env: Env, vars: readonly EnvVar[]): Record<string, string | undefined> {
  const missing = vars.filter((v) => v.required && !env[v.name]?.trim()).map((v) => v.name);
  if (missing.length) throw new Error(`missing environment: ${missing.join(", ")}`);
  return Object.fromEntries(vars.map((v) => [v.name, env[v.name]?.trim() || undefined]));
}

function port(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 65_535) throw new Error(`${name} is not a port: ${text}`);
  return value;
}

function count(name: string, text: string | undefined, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max) throw new Error(`${name} is not a number from 1 to ${max}: ${text}`);
  return value;
}

/** The host name as an invoker id: what a subject and a consumer name may hold. */
function invokerId(text: string | undefined, hostname: string): string {
  const id = text ?? hostname.split(".")[0]!.replace(/[^A-Za-z0-9_-]/g, "-");
  if (!INVOKER_ID.test(id)) throw new Error(`INVOKER_ID may hold only letters, digits, '-' and '_' (at most 64): ${id}`);
  return id;
}

/** A guessable secret would let anything that reaches an invoker run actions as anyone. */
function secret(text: string): string {
  if (text.length < 16) throw new Error("INVOKER_SECRET must be at least 16 characters (generate-secrets.sh makes 64)");
  return text;
}

function httpUrl(name: string, text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`${name} is not a URL: ${text}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`${name} is not an http(s) URL: ${text}`);
  return url.origin;
}

/** Where action isolates may connect besides the public internet (EGRESS_ALLOW). */
export interface EgressAllowance {
  /** Address blocks, as workerd's network filter takes them. */
  cidrs: string[];
  /**
   * Named destinations, `host:port` or a bare host (any port), lower case,
   * IPv6 in brackets: reachable whatever they resolve to.
   */
  destinations: string[];
}

/**
 * EGRESS_ALLOW in the syntax both hosts read (src/core/egress.ts: CIDRs or
 * host[:port]; loopback and metadata refused). `platform` lists the
 * components' own URLs (database, invokers, controllers): an entry naming
 * one of them is refused too, since it would open it to every action.
 */
export function egressAllowance(text: string | undefined, platform: readonly string[] = []): EgressAllowance {
  const allowance: EgressAllowance = { cidrs: [], destinations: [] };
  const components = platform
    .filter((url) => URL.canParse(url))
    .map((url) => new URL(url))
    .map((url) => ({ host: url.hostname, port: Number(url.port || DEFAULT_PORTS[url.protocol]) }));
  for (const rule of parseEgressRules(text, "allow")) {
    if ("cidr" in rule) {
      allowance.cidrs.push(formatCidr(rule.cidr.address, rule.cidr.prefix));
      continue;
    }
    const opened = components.find((c) => c.host === rule.host && (rule.port === undefined || rule.port === c.port));
    if (opened) throw new Error(`EGRESS_ALLOW entry "${rule.text}" would open ${opened.host}:${opened.port}, a component of the platform`);
    if (rule.address && rule.port === undefined) {
      allowance.cidrs.push(formatCidr(rule.address, rule.address.version === 4 ? 32 : 128));
    } else {
      allowance.destinations.push(rule.port === undefined ? rule.host : `${rule.host}:${rule.port}`);
    }
  }
  return allowance;
}

/** EGRESS_DENY: address blocks (or single addresses) only, as workerd's filter takes them. */
export function egressDenial(text: string | undefined): string[] {
  return parseEgressRules(text, "protect").map((rule) => {
    if ("cidr" in rule) return formatCidr(rule.cidr.address, rule.cidr.prefix);
    if (rule.address && rule.port === undefined) return formatCidr(rule.address, rule.address.version === 4 ? 32 : 128);
    throw new Error(`EGRESS_DENY entry "${rule.text}" is not a CIDR block or an address`);
  });
}

const DEFAULT_PORTS: Record<string, number> = { "http:": 80, "https:": 443, "postgres:": 5432, "postgresql:": 5432, "nats:": 4222 };

export interface ControllerConfig {
  port: number;
  /** Port of the operations endpoints (/readyz, /metrics), which the API's port does not serve. */
  opsPort: number;
  /** How long the API's port keeps an idle keep-alive connection (KEEP_ALIVE_TIMEOUT_MS). */
  keepAliveTimeoutMs: number;
  databaseUrl: string;
  natsUrl: string;
  invokerSecret: string;
  /** What actions see as __OW_API_HOST; unset, the origin each request came in on. */
  apiHost?: string;
  stream: string;
  guestAuth?: string;
  whiskSystemAuth?: string;
  /** How long activation records are kept (ACTIVATION_RETENTION_DAYS). */
  activationRetentionMs: number;
  /** Messages of the controllers' subject (fires) one controller handles at once. */
  concurrency: number;
}

export interface InvokerConfig {
  port: number;
  /** Unset: all interfaces. */
  listenHost?: string;
  databaseUrl: string;
  natsUrl: string;
  stream: string;
  /** Names its queue and its heartbeat (INVOKER_ID). */
  id: string;
  /** Where the others call it (INVOKER_ADVERTISE_URL). */
  advertiseUrl: string;
  /** Activations it runs at once (INVOKER_CONCURRENCY). */
  concurrency: number;
  invokerSecret: string;
  /** Origin of the controllers, for actions' requests to their API host. */
  controllerUrl: string;
  egressAllow: EgressAllowance;
  /** Blocks denied to actions besides the private ones (EGRESS_DENY). */
  egressDeny: string[];
  /**
   * Hosts of the platform's own components (database, controllers, this
   * invoker, Kubernetes API): their addresses are denied to actions too.
   */
  platformHosts: string[];
  memoryLimitMb: number;
  /** workerd children in the pool (WORKERD_CHILDREN). */
  children: number;
}

export function controllerConfig(env: Env = process.env): ControllerConfig {
  const v = read(env, CONTROLLER_ENV);
  return {
    port: port("PORT", v.PORT, DEFAULT_CONTROLLER_PORT),
    opsPort: port("OPS_PORT", v.OPS_PORT, DEFAULT_OPS_PORT),
    keepAliveTimeoutMs: count("KEEP_ALIVE_TIMEOUT_MS", v.KEEP_ALIVE_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS, 3_600_000),
    databaseUrl: v.DATABASE_URL!,
    natsUrl: v.NATS_URL!,
    invokerSecret: secret(v.INVOKER_SECRET!),
    ...(v.API_HOST ? { apiHost: apiOrigin(v.API_HOST) } : {}),
    stream: v.NATS_STREAM ?? DEFAULT_STREAM,
    ...(v.GUEST_AUTH ? { guestAuth: v.GUEST_AUTH } : {}),
    ...(v.WHISK_SYSTEM_AUTH ? { whiskSystemAuth: v.WHISK_SYSTEM_AUTH } : {}),
    activationRetentionMs: activationRetentionMs(v.ACTIVATION_RETENTION_DAYS),
    concurrency: count("CONTROLLER_CONCURRENCY", v.CONTROLLER_CONCURRENCY, DEFAULT_CONCURRENCY, 10_000),
  };
}

export function invokerConfig(env: Env = process.env, hostname: string = os.hostname()): InvokerConfig {
  const v = read(env, INVOKER_ENV);
  const memory = Number(v.WORKERD_MEMORY_MB ?? 1024);
  if (!(memory > 0)) throw new Error(`WORKERD_MEMORY_MB is not a size in MB: ${v.WORKERD_MEMORY_MB}`);
  const children = Number(v.WORKERD_CHILDREN ?? 4);
  if (!Number.isInteger(children) || children < 1 || children > 64) {
    throw new Error(`WORKERD_CHILDREN is not a number of children (1-64): ${v.WORKERD_CHILDREN}`);
  }
  const controllerUrl = httpUrl("CONTROLLER_URL", v.CONTROLLER_URL!);
  const listenPort = port("PORT", v.PORT, DEFAULT_INVOKER_PORT);
  const advertiseUrl = httpUrl("INVOKER_ADVERTISE_URL", v.INVOKER_ADVERTISE_URL ?? `http://${hostname}:${listenPort}`);
  const components = [v.DATABASE_URL!, v.NATS_URL!, controllerUrl, advertiseUrl];
  return {
    port: listenPort,
    ...(v.LISTEN_HOST ? { listenHost: v.LISTEN_HOST } : {}),
    databaseUrl: v.DATABASE_URL!,
    natsUrl: v.NATS_URL!,
    stream: v.NATS_STREAM ?? DEFAULT_STREAM,
    id: invokerId(v.INVOKER_ID, hostname),
    advertiseUrl,
    concurrency: count("INVOKER_CONCURRENCY", v.INVOKER_CONCURRENCY, DEFAULT_CONCURRENCY, 10_000),
    invokerSecret: secret(v.INVOKER_SECRET!),
    controllerUrl,
    egressAllow: egressAllowance(v.EGRESS_ALLOW, components),
    egressDeny: egressDenial(v.EGRESS_DENY),
    platformHosts: [
      ...components.filter((url) => URL.canParse(url)).map((url) => new URL(url).hostname),
      ...(v.KUBERNETES_SERVICE_HOST ? [v.KUBERNETES_SERVICE_HOST] : []),
    ].filter(Boolean),
    memoryLimitMb: memory,
    children,
  };
}
