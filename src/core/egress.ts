// Where action code may connect: the one egress policy both hosts apply to
// every outbound request and TCP connection of an action. By default an
// action reaches its API host (served by the platform itself) and the public
// internet, and nothing else: no loopback, private, link-local, cloud
// metadata, shared (CGNAT), reserved or multicast address, no localhost name
// and no name that can only exist on a private network. An operator opens
// named private destinations with EGRESS_ALLOW; loopback and metadata can
// never be opened.
//
// The check sees URLs and socket addresses, not DNS answers: a public-looking
// name that resolves to a private address is not caught here. Hosts that can
// resolve names must deny those addresses where the connection is made.
import { cidrContains, cidrsOverlap, formatCidr, formatIp, mappedIpv4, parseCidr, parseIp, type Cidr, type IpAddress } from "./ip.js";

/** Why a destination is denied; loopback and metadata can never be allowed. */
export type DenyCategory = "loopback" | "metadata" | "private" | "link-local" | "shared" | "reserved" | "multicast";

export interface DeniedRange {
  cidr: string;
  category: DenyCategory;
  /** What the range is, for error messages. */
  name: string;
}

/**
 * The addresses action code may not reach unless EGRESS_ALLOW opens them
 * (loopback and metadata: never). The first match names the reason, so the
 * metadata addresses come before the ranges holding them. IPv4 ranges also
 * apply to their IPv4-mapped IPv6 forms (::ffff:a.b.c.d), which
 * deniedCidrs() lists.
 */
export const DENIED_RANGES: readonly DeniedRange[] = [
  // Connecting to 0.0.0.0 or :: reaches the local machine on Linux.
  { cidr: "0.0.0.0/8", category: "loopback", name: "this host" },
  { cidr: "127.0.0.0/8", category: "loopback", name: "loopback" },
  { cidr: "::/128", category: "loopback", name: "this host" },
  { cidr: "::1/128", category: "loopback", name: "loopback" },
  // Cloud metadata endpoints hand out the machine's credentials.
  { cidr: "169.254.169.254/32", category: "metadata", name: "cloud metadata service" },
  { cidr: "169.254.170.2/32", category: "metadata", name: "AWS ECS container credentials service" },
  { cidr: "100.100.100.200/32", category: "metadata", name: "Alibaba Cloud metadata service" },
  { cidr: "fd00:ec2::254/128", category: "metadata", name: "AWS IPv6 metadata service" },
  { cidr: "10.0.0.0/8", category: "private", name: "private network" },
  { cidr: "172.16.0.0/12", category: "private", name: "private network" },
  { cidr: "192.168.0.0/16", category: "private", name: "private network" },
  { cidr: "fc00::/7", category: "private", name: "unique local (private) network" },
  { cidr: "fec0::/10", category: "private", name: "site-local (private) network" },
  { cidr: "169.254.0.0/16", category: "link-local", name: "link-local" },
  { cidr: "fe80::/10", category: "link-local", name: "link-local" },
  { cidr: "100.64.0.0/10", category: "shared", name: "carrier-grade NAT shared address space" },
  { cidr: "192.0.0.0/24", category: "reserved", name: "IETF protocol assignments" },
  { cidr: "192.0.2.0/24", category: "reserved", name: "TEST-NET-1 documentation range" },
  { cidr: "192.88.99.0/24", category: "reserved", name: "6to4 relay anycast" },
  { cidr: "198.18.0.0/15", category: "reserved", name: "benchmarking range" },
  { cidr: "198.51.100.0/24", category: "reserved", name: "TEST-NET-2 documentation range" },
  { cidr: "203.0.113.0/24", category: "reserved", name: "TEST-NET-3 documentation range" },
  { cidr: "224.0.0.0/4", category: "multicast", name: "multicast" },
  { cidr: "240.0.0.0/4", category: "reserved", name: "reserved and broadcast" },
  { cidr: "::/96", category: "reserved", name: "deprecated IPv4-compatible IPv6" },
  { cidr: "100::/64", category: "reserved", name: "discard-only range" },
  { cidr: "2001:db8::/32", category: "reserved", name: "documentation range" },
  { cidr: "ff00::/8", category: "multicast", name: "multicast" },
];

/**
 * Every denied range as CIDR text, IPv4 ranges also in their IPv4-mapped
 * IPv6 form: what a host renders into its network layer's deny list (e.g.
 * workerd's `network.deny`).
 */
export function deniedCidrs(): string[] {
  return RANGES.flatMap(({ text, cidr }) =>
    cidr.address.version === 4 ? [text, formatCidr(toMapped(cidr.address), 96 + cidr.prefix)] : [text],
  );
}

const NEVER_ALLOWED: ReadonlySet<DenyCategory> = new Set(["loopback", "metadata"]);

const RANGES = DENIED_RANGES.map((range) => ({ ...range, text: range.cidr, cidr: parseCidr(range.cidr)! }));

/** Names no public DNS answers for: local names and names reserved for private networks. */
function classifyName(host: string): { category: "loopback" | "metadata" | "internal-name"; why: string } | undefined {
  if (host === "localhost" || host.endsWith(".localhost")) return { category: "loopback", why: "a localhost name (loopback)" };
  if (METADATA_NAMES.has(host)) return { category: "metadata", why: "the name of a cloud metadata service" };
  if (!host.includes(".")) return { category: "internal-name", why: "a single-label name, which only a local resolver answers" };
  const suffix = INTERNAL_SUFFIXES.find((s) => host.endsWith(s));
  if (suffix) return { category: "internal-name", why: `a name under ${suffix}, which is reserved for private networks` };
  return undefined;
}

const METADATA_NAMES = new Set(["metadata.google.internal", "metadata.goog", "instance-data.ec2.internal"]);
/** Suffixes reserved for private or link-local use (RFC 6762, RFC 8375, ICANN's .internal). */
const INTERNAL_SUFFIXES = [".local", ".internal", ".localdomain", ".home.arpa"];

export type EgressDenyCode = DenyCategory | "internal-name" | "protected" | "scheme" | "invalid" | "misconfigured";

export type EgressDecision =
  /** The platform's own API host: the host serves it in-process. */
  | { kind: "api" }
  /** A destination the action may reach; connect to exactly `host`:`port` (canonical form, IPv6 in brackets). */
  | { kind: "allowed"; host: string; port: number; allowedBy?: string }
  | { kind: "denied"; code: EgressDenyCode; reason: string };

/** One EGRESS_ALLOW (or protected) entry: a CIDR block, or a host (IP or name) with an optional port. */
export type EgressRule =
  | { text: string; cidr: Cidr }
  | { text: string; host: string; address?: IpAddress; port?: number };

export class EgressConfigError extends Error {
  override name = "EgressConfigError";
}

export interface EgressPolicyOptions {
  /** The origin actions see as __OW_API_HOST; requests to exactly this origin are "api". */
  apiHost?: string;
  /** EGRESS_ALLOW: comma-separated CIDRs or host[:port] entries that open denied destinations. */
  allow?: string;
  /**
   * Destinations never reachable, allowed or not, e.g. the host's own
   * components (databases, queues, invokers); the same syntax as `allow`.
   */
  protect?: string;
}

/**
 * Parses comma-separated CIDR / host[:port] entries. Throws EgressConfigError
 * naming the entry when one is malformed or, for allowances, would open
 * loopback or a metadata endpoint.
 */
export function parseEgressRules(config: string | undefined, purpose: "allow" | "protect" = "allow"): EgressRule[] {
  const rules: EgressRule[] = [];
  for (const raw of (config ?? "").split(",")) {
    const text = raw.trim();
    if (!text) continue;
    const rule = parseRule(text, purpose === "allow" ? "EGRESS_ALLOW" : "protected");
    if (purpose === "allow") refuseUnsafe(rule);
    rules.push(rule);
  }
  return rules;
}

function parseRule(text: string, setting: string): EgressRule {
  const fail = (why: string) => new EgressConfigError(`${setting} entry "${text}": ${why}`);
  if (text.includes("://")) throw fail("write host[:port] or a CIDR block, not a URL");
  if (text.includes("/")) {
    let cidr: Cidr | undefined;
    try {
      cidr = parseCidr(text);
    } catch (err) {
      throw fail((err as Error).message);
    }
    if (!cidr) throw fail("not a CIDR block such as 10.0.0.0/8 or fd00:1::/64");
    return { text, cidr: normalizeMapped(cidr) };
  }
  // A bare IPv6 address has colons but no port.
  const bare = parseIp(text);
  if (bare?.version === 6) return { text, host: `[${formatIp(bare)}]`, address: normalizeAddress(bare) };
  const endpoint = parseAuthority(text);
  if (!endpoint) throw fail("expected a CIDR block, an IP address or a host name, optionally with :port");
  const address = parseIp(endpoint.host);
  return { text, host: endpoint.host, address: address && normalizeAddress(address), port: endpoint.port };
}

function refuseUnsafe(rule: EgressRule): void {
  const fail = (why: string) => new EgressConfigError(`EGRESS_ALLOW entry "${rule.text}" would open ${why}, which actions may never reach`);
  if ("cidr" in rule) {
    const hit = RANGES.find((range) => NEVER_ALLOWED.has(range.category) && cidrsOverlap(range.cidr, rule.cidr));
    if (hit) throw fail(`${hit.name} (${hit.text})`);
    return;
  }
  if (rule.address) {
    const hit = classifyAddress(rule.address);
    if (hit && NEVER_ALLOWED.has(hit.category)) throw fail(`${hit.name} (${hit.cidr})`);
    return;
  }
  const named = classifyName(rule.host);
  if (named && NEVER_ALLOWED.has(named.category as DenyCategory)) throw fail(named.why);
}

/** The first denied range holding the address (IPv4-mapped IPv6 counts as its IPv4 address). */
export function classifyAddress(address: IpAddress | string): DeniedRange | undefined {
  const parsed = typeof address === "string" ? parseIp(address) : address;
  if (!parsed) return undefined;
  const ip = normalizeAddress(parsed);
  const hit = RANGES.find((range) => cidrContains(range.cidr, ip));
  return hit && { cidr: hit.text, category: hit.category, name: hit.name };
}

function normalizeAddress(address: IpAddress): IpAddress {
  return mappedIpv4(address) ?? address;
}

function normalizeMapped(cidr: Cidr): Cidr {
  const v4 = mappedIpv4(cidr.address);
  return v4 && cidr.prefix >= 96 ? { address: v4, prefix: cidr.prefix - 96 } : cidr;
}

function toMapped(address: IpAddress): IpAddress {
  const bytes = new Uint8Array(16);
  bytes[10] = 0xff;
  bytes[11] = 0xff;
  bytes.set(address.bytes, 12);
  return { version: 6, bytes };
}

/**
 * Canonical host and port of "host:port" (or "[v6]:port", or a bare host),
 * through the URL parser so numeric shorthands (2130706433, 0x7f.1, 127.1)
 * become the addresses a socket would reach.
 */
function parseAuthority(text: string): { host: string; port?: number } | undefined {
  if (/[/?#@\\\s]/.test(text)) return undefined;
  let http: URL;
  let https: URL;
  try {
    http = new URL(`http://${text}`);
    https = new URL(`https://${text}`);
  } catch {
    return undefined;
  }
  // URL drops a scheme's default port; the two schemes' defaults differ, so
  // one of them keeps any port that was written.
  const portText = http.port || https.port;
  return { host: stripDot(http.hostname), port: portText ? Number(portText) : undefined };
}

/** "example.com." and "example.com" are one name. */
function stripDot(host: string): string {
  return host.length > 1 && host.endsWith(".") ? host.slice(0, -1) : host;
}

const DEFAULT_PORTS: Record<string, number> = { "http:": 80, "https:": 443 };

export class EgressPolicy {
  private readonly apiOrigin: string | undefined;
  private readonly allow: EgressRule[];
  private readonly protect: EgressRule[];

  /** Throws EgressConfigError for a malformed or unsafe `allow`/`protect` or an invalid `apiHost`. */
  constructor(options: EgressPolicyOptions = {}) {
    this.apiOrigin = options.apiHost === undefined ? undefined : apiOrigin(options.apiHost);
    this.allow = parseEgressRules(options.allow, "allow");
    this.protect = parseEgressRules(options.protect, "protect");
  }

  /** Decides an HTTP(S) request's URL (fetch, WebSocket upgrades). */
  checkUrl(input: string | URL): EgressDecision {
    let url: URL;
    try {
      url = new URL(input);
    } catch {
      return { kind: "denied", code: "invalid", reason: `${String(input)} is not a URL` };
    }
    if (!(url.protocol in DEFAULT_PORTS)) {
      return { kind: "denied", code: "scheme", reason: `${url.protocol} URLs cannot be fetched; use http: or https:` };
    }
    if (this.apiOrigin !== undefined && url.origin === this.apiOrigin) return { kind: "api" };
    return this.checkEndpoint(stripDot(url.hostname), url.port ? Number(url.port) : DEFAULT_PORTS[url.protocol]);
  }

  /** Decides a raw TCP connection to "host:port" (the address given to connect()). */
  checkSocket(address: string): EgressDecision {
    const endpoint = parseAuthority(address);
    if (!endpoint || endpoint.port === undefined) {
      return { kind: "denied", code: "invalid", reason: `"${address}" is not a host:port address` };
    }
    return this.checkEndpoint(endpoint.host, endpoint.port);
  }

  private checkEndpoint(host: string, port: number): EgressDecision {
    const address = parseIp(host);
    if (this.protect.some((rule) => matches(rule, host, address, port))) {
      return { kind: "denied", code: "protected", reason: `${host}:${port} is one of the platform's own components` };
    }
    const denied = address ? describeRange(classifyAddress(address)) : classifyName(host);
    if (!denied) return { kind: "allowed", host, port };
    if (!NEVER_ALLOWED.has(denied.category as DenyCategory)) {
      const rule = this.allow.find((candidate) => matches(candidate, host, address, port));
      if (rule) return { kind: "allowed", host, port, allowedBy: rule.text };
    }
    return { kind: "denied", code: denied.category, reason: `${host} is ${denied.why}` };
  }
}

function matches(rule: EgressRule, host: string, address: IpAddress | undefined, port: number): boolean {
  if ("cidr" in rule) return address !== undefined && cidrContains(rule.cidr, normalizeAddress(address));
  if (rule.port !== undefined && rule.port !== port) return false;
  if (rule.address) return address !== undefined && sameAddress(rule.address, normalizeAddress(address));
  return rule.host === host;
}

function sameAddress(a: IpAddress, b: IpAddress): boolean {
  return a.version === b.version && a.bytes.every((byte, i) => byte === b.bytes[i]);
}

function describeRange(range: DeniedRange | undefined): { category: DenyCategory; why: string } | undefined {
  return range && { category: range.category, why: `in ${range.cidr} (${range.name})` };
}

/** An API host setting ("https://whisk.example.com/") as the origin actions see and requests are compared with. */
export function apiOrigin(apiHost: string): string {
  let url: URL;
  try {
    url = new URL(apiHost);
  } catch {
    throw new EgressConfigError(`API_HOST "${apiHost}" is not a URL such as https://whisk.example.com`);
  }
  if (!(url.protocol in DEFAULT_PORTS)) throw new EgressConfigError(`API_HOST "${apiHost}" must be an http: or https: URL`);
  return url.origin;
}

/** The message an action sees when a destination is refused. */
export function deniedMessage(target: string, decision: Extract<EgressDecision, { kind: "denied" }>): string {
  return `destination not allowed: ${target}: ${decision.reason}; actions may reach the public internet and their API host only`;
}
