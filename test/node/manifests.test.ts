// k8s/ rendered by `kubectl kustomize` (with secrets.env generated as at
// deploy time) and checked against what the Node host reads: images,
// commands, ports, environment, ConfigMap and Secret references, probes;
// the operations around it: resources, autoscalers, disruption budgets,
// draining and scraping; and the walls: NetworkPolicies (evaluated below as
// a CNI would), NATS authentication (tried on a real nats-server when one
// is installed) and the invokers' shared secret.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { parseAuthKey } from "../../src/core/auth.js";
import { LIMITS } from "../../src/core/limits.js";
import { CONTROLLER_ENV, INVOKER_ENV, type EnvVar } from "../../src/node/config.js";
import { natsConnectionOptions } from "../../src/node/controller.js";
import { freePort } from "../e2e/server.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const hasKubectl = spawnSync("kubectl", ["version", "--client"], { stdio: "ignore" }).status === 0;
if (!hasKubectl) {
  const message = "manifest tests need kubectl (Debian: apt-get install kubernetes-client)";
  if (process.env.CI) throw new Error(message);
  console.warn(`SKIPPED: ${message}`);
}

const hasNatsServer = spawnSync("nats-server", ["--version"], { stdio: "ignore" }).status === 0;

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered Kubernetes objects are plain JSON */
type K8sObject = any;

/**
 * One end of a connection: a pod of a component of ours, a pod in another
 * namespace (such as Prometheus'), or an address outside.
 */
type Peer = { component: string } | { namespace: string } | { ip: string };

/** Waits until something accepts connections on `port`; `exited` says why nothing will (the server died). */
async function listening(port: number, exited: () => string | undefined): Promise<void> {
  // A loaded machine (the whole suite at once) can take seconds to start nats-server with JetStream.
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection(port, "127.0.0.1", () => resolve(true)).on("error", () => resolve(false));
      socket.unref();
      setTimeout(() => socket.destroy(), 200);
    });
    if (open) return;
    const why = exited();
    if (why !== undefined) throw new Error(`nats-server exited before listening on ${port}: ${why}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nothing listens on ${port}`);
}

function ipv4(text: string): number {
  return text.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split("/");
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ipv4(ip) / size) === Math.floor(ipv4(base) / size);
}

/**
 * Whether NetworkPolicies let `from` open a connection to `to` on a port, as
 * an enforcing CNI decides: each end that some policy selects (for egress,
 * for ingress) must have a rule admitting the other end and the port.
 * Enough of the API for these manifests: matchLabels, ipBlock, numeric ports.
 */
function policyAllows(objects: K8sObject[], labelsOf: (component: string) => Record<string, string>, from: Peer, to: Peer, port: number, protocol = "TCP"): boolean {
  const policies = objects.filter((o) => o.kind === "NetworkPolicy");
  const selects = (selector: K8sObject, labels: Record<string, string>) => {
    expect(selector.matchExpressions, "matchExpressions are not evaluated here").toBeUndefined();
    return Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  };
  const peerMatches = (rule: K8sObject, peer: Peer) => {
    if (rule.namespaceSelector) {
      expect(rule.podSelector, "namespaceSelector with podSelector is not evaluated here").toBeUndefined();
      return "namespace" in peer && selects(rule.namespaceSelector, { "kubernetes.io/metadata.name": peer.namespace });
    }
    if (rule.podSelector) return "component" in peer && selects(rule.podSelector, labelsOf(peer.component));
    if (rule.ipBlock) {
      return "ip" in peer && inCidr(peer.ip, rule.ipBlock.cidr) && !(rule.ipBlock.except ?? []).some((c: string) => inCidr(peer.ip, c));
    }
    throw new Error(`unknown peer ${JSON.stringify(rule)}`);
  };
  const side = (subject: Peer, other: Peer, type: "Ingress" | "Egress") => {
    if (!("component" in subject)) return true;
    const applying = policies.filter((p) => p.spec.policyTypes.includes(type) && selects(p.spec.podSelector, labelsOf(subject.component)));
    if (applying.length === 0) return true;
    return applying.some((p) =>
      (p.spec[type === "Ingress" ? "ingress" : "egress"] ?? []).some((rule: K8sObject) => {
        const peers = rule[type === "Ingress" ? "from" : "to"];
        const portOk = !rule.ports || rule.ports.some((p: K8sObject) => (p.protocol ?? "TCP") === protocol && p.port === port);
        return portOk && (!peers || peers.some((peer: K8sObject) => peerMatches(peer, other)));
      }),
    );
  };
  return side(from, to, "Egress") && side(to, from, "Ingress");
}

/** What each role's server answers on, for the probes and the scrapes. */
const SERVED_PATHS = { controller: ["/healthz", "/readyz", "/metrics", "/api/v1"], invoker: ["/healthz", "/readyz", "/metrics"] };
/**
 * The container port each role serves /readyz and /metrics on: the
 * controller's API port is public (the LoadBalancer's), so it has another.
 */
const OPS_PORT_NAME = { controller: "ops", invoker: "http" } as const;
/** Our two roles, each a Deployment of that name. */
const ROLES = ["controller", "invoker"] as const;

/** CPU in cores, from a Kubernetes quantity ("500m", "2"). */
function cores(quantity: string | number): number {
  const text = String(quantity);
  return text.endsWith("m") ? Number(text.slice(0, -1)) / 1000 : Number(text);
}

/** Memory in MiB, from a Kubernetes quantity in Mi or Gi (all these manifests use). */
function mebibytes(quantity: string): number {
  const match = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (!match) throw new Error(`not a quantity in Mi or Gi: ${quantity}`);
  return Number(match[1]) * (match[2] === "Gi" ? 1024 : 1);
}

const ROLE_ENV: Record<string, readonly EnvVar[]> = { controller: CONTROLLER_ENV, invoker: INVOKER_ENV };

describe.skipIf(!hasKubectl)("k8s manifests", () => {
  let dir: string;
  let objects: K8sObject[];
  let secretsEnv: string;

  const find = (kind: string, name: string): K8sObject => {
    const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
    if (!found) throw new Error(`no ${kind} ${name} in the rendered manifests`);
    return found;
  };
  /** Generated ConfigMaps and Secrets carry a content hash after their name. */
  const generated = (kind: string, name: string): K8sObject => {
    const found = objects.find((o) => o.kind === kind && new RegExp(`^${name}-[a-z0-9]{10}$`).test(o.metadata.name));
    if (!found) throw new Error(`no generated ${kind} ${name}`);
    return found;
  };
  const container = (kind: string, name: string): K8sObject => find(kind, name).spec.template.spec.containers[0];
  const envValue = (c: K8sObject, name: string) => c.env.find((e: K8sObject) => e.name === name);
  const portNumber = (c: K8sObject, port: number | string) =>
    typeof port === "number" ? port : c.ports.find((p: K8sObject) => p.name === port)?.containerPort;
  const decodeSecret = (key: string) => Buffer.from(generated("Secret", "edgewhisk-secrets").data[key], "base64").toString();
  const configValue = (key: string) => generated("ConfigMap", "edgewhisk-config").data[key];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "edgewhisk-k8s-"));
    cpSync(join(ROOT, "k8s"), dir, { recursive: true });
    rmSync(join(dir, "secrets.env"), { force: true });
    execFileSync("sh", [join(dir, "generate-secrets.sh")], { stdio: "ignore" });
    secretsEnv = readFileSync(join(dir, "secrets.env"), "utf8");
    const rendered = execFileSync("kubectl", ["kustomize", dir], { encoding: "utf8" });
    objects = parseAllDocuments(rendered).map((doc) => doc.toJSON());
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("generates a guest key wsk accepts and keeps it on the next run", () => {
    const guest = /^GUEST_AUTH=(.+)$/m.exec(secretsEnv)?.[1] ?? "";
    expect(parseAuthKey(guest)?.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(parseAuthKey(guest)?.key).toMatch(/^[0-9a-f]{64}$/);
    execFileSync("sh", [join(dir, "generate-secrets.sh")], { stdio: "ignore" });
    expect(readFileSync(join(dir, "secrets.env"), "utf8")).toBe(secretsEnv);
    expect(decodeSecret("GUEST_AUTH")).toBe(guest);
  });

  it("generates every internal secret, random and long", () => {
    expect(decodeSecret("INVOKER_SECRET")).toMatch(/^[0-9a-f]{64}$/);
    // nats-server reads $NATS_PASSWORD as a config value: a leading digit makes it a number.
    expect(decodeSecret("NATS_PASSWORD")).toMatch(/^n[0-9a-f]{48}$/);
    expect(decodeSecret("POSTGRES_PASSWORD")).toMatch(/^[0-9a-f]{48}$/);
    expect(new Set(["INVOKER_SECRET", "NATS_PASSWORD", "POSTGRES_PASSWORD"].map(decodeSecret)).size).toBe(3);
  });

  it("adds the secrets an older secrets.env lacks and keeps the values it has", () => {
    const older = mkdtempSync(join(tmpdir(), "edgewhisk-k8s-old-"));
    try {
      cpSync(join(ROOT, "k8s", "generate-secrets.sh"), join(older, "generate-secrets.sh"));
      writeFileSync(join(older, "secrets.env"), "GUEST_AUTH=kept-guest\nPOSTGRES_PASSWORD=kept-password");
      execFileSync("sh", [join(older, "generate-secrets.sh")], { stdio: "ignore" });
      const lines = readFileSync(join(older, "secrets.env"), "utf8").trimEnd().split("\n");
      expect(lines.slice(0, 2)).toEqual(["GUEST_AUTH=kept-guest", "POSTGRES_PASSWORD=kept-password"]);
      expect(lines.slice(2).map((l) => l.split("=")[0])).toEqual(["INVOKER_SECRET", "NATS_PASSWORD"]);
      expect(lines[2]).toMatch(/^INVOKER_SECRET=[0-9a-f]{64}$/);
    } finally {
      rmSync(older, { recursive: true, force: true });
    }
  });

  it("puts everything in the edgewhisk namespace", () => {
    expect(find("Namespace", "edgewhisk")).toBeTruthy();
    for (const o of objects.filter((o) => o.kind !== "Namespace")) expect(o.metadata.namespace, `${o.kind} ${o.metadata.name}`).toBe("edgewhisk");
  });

  it("runs the controllers and the invokers from one image built by the Dockerfile", () => {
    const images = new Set(ROLES.map((role) => container("Deployment", role).image));
    expect(images.size).toBe(1);
    const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
    expect(dockerfile).toMatch(/^FROM node:22-slim$/m);
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev/m);
    // npm ci's prepare script bundles the packages actions may require: it must be in the image first.
    expect(dockerfile.indexOf("COPY scripts ./scripts")).toBeGreaterThan(0);
    expect(dockerfile.indexOf("COPY scripts ./scripts")).toBeLessThan(dockerfile.indexOf("RUN npm ci"));
    expect(readFileSync(join(ROOT, ".dockerignore"), "utf8")).toContain("!scripts/bundle-isolate-libraries.mjs");
    // The Python files are prepared once src/ is in (the runner is part of their stamp).
    expect(readFileSync(join(ROOT, ".dockerignore"), "utf8")).toContain("!scripts/build-python.mjs");
    expect(dockerfile.indexOf("RUN node scripts/build-python.mjs")).toBeGreaterThan(dockerfile.indexOf("COPY src ./src"));
    expect(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).dependencies).toHaveProperty("esbuild");
    for (const copied of ["src", "migrations"]) expect(dockerfile).toMatch(new RegExp(`^COPY ${copied} \\./${copied}$`, "m"));
    for (const name of ROLES) {
      const command: string[] = container("Deployment", name).command;
      expect(command.slice(0, 3)).toEqual(["node", "--import", "tsx"]);
      expect(existsSync(join(ROOT, command[3])), command[3]).toBe(true);
      expect(command[3]).toMatch(/^src\//);
      expect(command[4]).toBe(name);
    }
  });

  it("sets exactly the environment each role reads, from objects that exist", () => {
    for (const name of ROLES) {
      const c = container("Deployment", name);
      const names: string[] = c.env.map((e: K8sObject) => e.name);
      const reads = ROLE_ENV[name].map((v) => v.name);
      // A variable the server does not read is there only to compose another one.
      const composing = new Set(c.env.flatMap((e: K8sObject) => [...String(e.value ?? "").matchAll(/\$\((\w+)\)/g)].map((m) => m[1])));
      for (const env of names) expect(reads.includes(env) || composing.has(env), `${name} sets ${env}, which nothing reads`).toBe(true);
      for (const v of ROLE_ENV[name].filter((v) => v.required)) expect(names, `${name} lacks ${v.name}`).toContain(v.name);
      expect(c.envFrom).toBeUndefined();
      for (const e of c.env.filter((e: K8sObject) => e.valueFrom)) {
        const { configMapKeyRef, secretKeyRef } = e.valueFrom;
        if (configMapKeyRef) expect(find("ConfigMap", configMapKeyRef.name).data).toHaveProperty(configMapKeyRef.key);
        if (secretKeyRef) expect(find("Secret", secretKeyRef.name).data).toHaveProperty(secretKeyRef.key);
      }
      expect(Number(envValue(c, "PORT").value)).toBe(portNumber(c, "http"));
    }
  });

  it("composes variables only from variables set before them (Kubernetes leaves a later one's $(NAME) as it is)", () => {
    for (const o of objects.filter((o) => o.kind === "Deployment" || o.kind === "StatefulSet")) {
      for (const c of o.spec.template.spec.containers) {
        const names: string[] = (c.env ?? []).map((e: K8sObject) => e.name);
        names.forEach((name, i) => {
          for (const [, used] of String(c.env[i].value ?? "").matchAll(/\$\((\w+)\)/g)) {
            expect(names.slice(0, i), `${c.name}: ${name} uses $(${used})`).toContain(used);
          }
        });
      }
    }
  });

  it("sets INVOKER_URLS nowhere: invokers announce themselves", () => {
    const rendered = objects.map((o) => JSON.stringify(o)).join("\n");
    expect(rendered).not.toContain("INVOKER_URLS");
    expect(readFileSync(join(ROOT, "docs", "kubernetes.md"), "utf8")).not.toContain("INVOKER_URLS");
  });

  it("names each invoker after its pod and advertises it at the pod's name under the headless Service", () => {
    const invokers = find("Deployment", "invoker");
    const c = container("Deployment", "invoker");
    expect(envValue(c, "INVOKER_ID").valueFrom).toEqual({ fieldRef: { fieldPath: "metadata.name" } });
    const service = find("Service", invokers.spec.template.spec.subdomain);
    expect(service.spec.clusterIP).toBe("None");
    // Membership, not readiness, routes work: the name resolves while a pod starts and drains.
    expect(service.spec.publishNotReadyAddresses).toBe(true);
    for (const [key, value] of Object.entries(service.spec.selector)) expect(invokers.spec.template.metadata.labels[key]).toBe(value);
    const port = portNumber(c, service.spec.ports[0].targetPort);
    expect(port).toBe(Number(envValue(c, "PORT").value));
    expect(envValue(c, "INVOKER_ADVERTISE_URL").value).toBe(`http://$(INVOKER_ID).${service.metadata.name}:${port}`);
  });

  it("shares the NATS stream and sets each role's concurrency from the ConfigMap", () => {
    for (const [name, variable] of [["controller", "CONTROLLER_CONCURRENCY"], ["invoker", "INVOKER_CONCURRENCY"]]) {
      const c = container("Deployment", name);
      expect(envValue(c, "NATS_STREAM").valueFrom.configMapKeyRef.key).toBe("NATS_STREAM");
      expect(envValue(c, variable).valueFrom.configMapKeyRef.key).toBe(variable);
      expect(Number(configValue(variable))).toBeGreaterThanOrEqual(1);
    }
    expect(configValue("NATS_STREAM")).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it("points DATABASE_URL at the PostgreSQL Service, user, database and password", () => {
    const postgres = container("StatefulSet", "postgres");
    const service = find("Service", "postgres");
    for (const name of ROLES) {
      const c = container("Deployment", name);
      const url = new URL(envValue(c, "DATABASE_URL").value.replace("$(POSTGRES_PASSWORD)", "secret"));
      expect(url.hostname).toBe(service.metadata.name);
      expect(Number(url.port)).toBe(service.spec.ports[0].port);
      expect(url.username).toBe(envValue(postgres, "POSTGRES_USER").value);
      expect(url.pathname).toBe(`/${envValue(postgres, "POSTGRES_DB").value}`);
      expect(envValue(c, "POSTGRES_PASSWORD").valueFrom).toEqual(envValue(postgres, "POSTGRES_PASSWORD").valueFrom);
    }
    expect(portNumber(postgres, service.spec.ports[0].targetPort)).toBe(5432);
    expect(find("StatefulSet", "postgres").spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBeTruthy();
  });

  /** A role's NATS_URL, its password as the Secret has it. */
  const natsUrlOf = (role: (typeof ROLES)[number]) => {
    const c = container("Deployment", role);
    expect(envValue(c, "NATS_PASSWORD").valueFrom).toEqual({ secretKeyRef: { name: expect.stringMatching(/^edgewhisk-secrets/), key: "NATS_PASSWORD" } });
    return new URL(envValue(c, "NATS_URL").value.replace("$(NATS_PASSWORD)", decodeSecret("NATS_PASSWORD")));
  };
  const controllerNatsUrl = () => natsUrlOf("controller");

  it("points NATS_URL at a JetStream server with its own volume", () => {
    const url = controllerNatsUrl();
    const service = find("Service", url.hostname);
    expect(service.spec.ports[0].port).toBe(Number(url.port));
    const nats = container("StatefulSet", url.hostname);
    expect(nats.args).toContain("--jetstream");
    expect(portNumber(nats, service.spec.ports[0].targetPort)).toBe(4222);
    const storeDir = nats.args[nats.args.indexOf("--store_dir") + 1];
    expect(nats.volumeMounts.map((m: K8sObject) => m.mountPath)).toContain(storeDir);
  });

  it("makes NATS require the Secret's password, which the controllers' and invokers' NATS_URL carries", () => {
    const url = controllerNatsUrl();
    const nats = container("StatefulSet", "nats");
    expect(envValue(nats, "NATS_PASSWORD").valueFrom).toEqual(envValue(container("Deployment", "controller"), "NATS_PASSWORD").valueFrom);
    const configFile = nats.args[nats.args.indexOf("--config") + 1];
    const mount = nats.volumeMounts.find((m: K8sObject) => configFile.startsWith(`${m.mountPath}/`));
    const volume = find("StatefulSet", "nats").spec.template.spec.volumes.find((v: K8sObject) => v.name === mount.name);
    const conf: string = find("ConfigMap", volume.configMap.name).data[configFile.slice(mount.mountPath.length + 1)];
    expect(conf).toMatch(new RegExp(`user: ${url.username}\\b`));
    expect(conf).toMatch(/password: \$NATS_PASSWORD\b/);
    expect(natsConnectionOptions(url.href)).toEqual({ servers: `nats://${url.host}`, user: url.username, pass: decodeSecret("NATS_PASSWORD") });
    // Invokers heartbeat and consume there: the same server, user and password.
    expect(natsUrlOf("invoker").href).toBe(url.href);
  });

  it.skipIf(!hasNatsServer)("refuses NATS clients without the password, as a real nats-server runs that config", async () => {
    const nats = container("StatefulSet", "nats");
    const configFile = nats.args[nats.args.indexOf("--config") + 1];
    const conf = find("ConfigMap", "nats-config").data[configFile.split("/").pop()!];
    const work = mkdtempSync(join(tmpdir(), "edgewhisk-nats-"));
    writeFileSync(join(work, "nats.conf"), conf);
    const port = await freePort();
    const server = spawn("nats-server", ["--config", join(work, "nats.conf"), "-a", "127.0.0.1", "-p", String(port)], {
      env: { ...process.env, NATS_PASSWORD: decodeSecret("NATS_PASSWORD") },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    server.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      const url = controllerNatsUrl();
      url.host = `127.0.0.1:${port}`;
      const attempt = (options: { servers: string; user?: string; pass?: string }) => connect({ ...options, timeout: 2_000, reconnect: false });
      await listening(port, () => (server.exitCode !== null || server.signalCode !== null ? `${server.exitCode ?? server.signalCode} ${stderr.slice(-500)}` : undefined));
      const nc = await attempt(natsConnectionOptions(url.href));
      await nc.flush();
      await nc.close();
      await expect(attempt({ servers: `127.0.0.1:${port}` })).rejects.toThrow(/authorization/i);
      await expect(attempt({ servers: `127.0.0.1:${port}`, user: url.username, pass: "wrong" })).rejects.toThrow(/authorization/i);
    } finally {
      server.kill("SIGKILL");
      rmSync(work, { recursive: true, force: true });
    }
  });

  it("gives controllers and invokers the one INVOKER_SECRET from the Secret", () => {
    const refs = ROLES.map((role) => container("Deployment", role)).map((c) => envValue(c, "INVOKER_SECRET").valueFrom);
    expect(refs[0]).toEqual({ secretKeyRef: { name: expect.stringMatching(/^edgewhisk-secrets/), key: "INVOKER_SECRET" } });
    expect(refs[1]).toEqual(refs[0]);
  });

  it("sends actions' API calls to the controller Service and lets the operator set the API host", () => {
    const url = new URL(configValue("CONTROLLER_URL"));
    const service = find("Service", url.hostname);
    expect(Number(url.port || 80)).toBe(service.spec.ports[0].port);
    expect(envValue(container("Deployment", "invoker"), "CONTROLLER_URL").valueFrom.configMapKeyRef.key).toBe("CONTROLLER_URL");
    // Empty unless the operator sets the public URL (then it must be one).
    const apiHost = configValue("API_HOST");
    if (apiHost) expect(new URL(apiHost).protocol).toMatch(/^https?:$/);
    expect(envValue(container("Deployment", "controller"), "API_HOST").valueFrom.configMapKeyRef.key).toBe("API_HOST");
    expect(configValue("EGRESS_ALLOW")).toBe("");
    // GKE's default Service range is public address space: denied to actions unless the operator says otherwise.
    expect(configValue("EGRESS_DENY").split(",")).toContain("34.118.224.0/20");
  });

  it("mounts no Kubernetes API token into controllers and invokers", () => {
    for (const name of ROLES) {
      expect(find("Deployment", name).spec.template.spec.automountServiceAccountToken, name).toBe(false);
    }
  });

  describe("NetworkPolicies", () => {
    const labelsOf = (component: string) => {
      const workload = objects.find((o) => (o.kind === "Deployment" || o.kind === "StatefulSet") && o.metadata.name === component);
      return workload.spec.template.metadata.labels as Record<string, string>;
    };
    const allows = (from: Peer, to: Peer, port: number, protocol?: string) => policyAllows(objects, labelsOf, from, to, port, protocol);
    const pod = (component: string) => ({ component });
    const outside = { ip: "203.0.113.9" };
    const monitoring = { namespace: "monitoring" };

    it("let anyone reach the API, and nothing else from outside", () => {
      expect(allows(outside, pod("controller"), 3000)).toBe(true);
      for (const [component, port] of [["invoker", 8080], ["postgres", 5432], ["nats", 4222], ["controller", 9229]] as const) {
        expect(allows(outside, pod(component), port), `${component}:${port}`).toBe(false);
      }
    });

    it("let only controllers (and invokers, for sequences) reach invokers", () => {
      expect(allows(pod("controller"), pod("invoker"), 8080)).toBe(true);
      expect(allows(pod("invoker"), pod("invoker"), 8080)).toBe(true);
      for (const component of ["postgres", "nats"]) expect(allows(pod(component), pod("invoker"), 8080), component).toBe(false);
      expect(allows(pod("controller"), pod("invoker"), 9229)).toBe(false);
    });

    it("let only controllers and invokers reach PostgreSQL and NATS", () => {
      for (const [component, port] of [["postgres", 5432], ["nats", 4222]] as const) {
        expect(allows(pod("controller"), pod(component), port), component).toBe(true);
        expect(allows(pod("invoker"), pod(component), port), component).toBe(true);
        expect(allows(monitoring, pod(component), port), component).toBe(false);
      }
      expect(allows(pod("nats"), pod("postgres"), 5432)).toBe(false);
      expect(allows(pod("postgres"), pod("nats"), 4222)).toBe(false);
    });

    it("let Prometheus' namespace scrape controllers and invokers, and no other namespace reach invokers", () => {
      expect(allows(monitoring, pod("controller"), 9090)).toBe(true);
      expect(allows(outside, pod("controller"), 9090)).toBe(false);
      expect(allows(pod("invoker"), pod("controller"), 9090)).toBe(false);
      expect(allows(monitoring, pod("invoker"), 8080)).toBe(true);
      expect(allows({ namespace: "default" }, pod("invoker"), 8080)).toBe(false);
    });

    it("let invoker pods reach DNS, the controllers, PostgreSQL, NATS and the public internet, and no private range", () => {
      expect(allows(pod("invoker"), { ip: "10.0.0.10" }, 53, "UDP")).toBe(true);
      expect(allows(pod("invoker"), pod("controller"), 3000)).toBe(true);
      expect(allows(pod("invoker"), pod("nats"), 4222)).toBe(true);
      expect(allows(pod("invoker"), { ip: "8.8.8.8" }, 443)).toBe(true);
      for (const ip of ["10.1.2.3", "172.16.0.1", "172.31.255.254", "192.168.1.1", "169.254.169.254", "100.64.0.1", "100.127.255.254"]) {
        expect(allows(pod("invoker"), { ip }, 443), ip).toBe(false);
        expect(allows(pod("invoker"), { ip }, 80), ip).toBe(false);
      }
    });

    it("deny ingress by default to every pod of the namespace", () => {
      const deny = objects.find((o) => o.kind === "NetworkPolicy" && Object.keys(o.spec.podSelector).length === 0);
      expect(deny?.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress"] });
      expect(find("NetworkPolicy", "default-deny-ingress")).toBe(deny);
    });
  });

  it("exposes the controller through a LoadBalancer Service on its http port", () => {
    const service = find("Service", "controller");
    expect(service.spec.type).toBe("LoadBalancer");
    const pods = find("Deployment", "controller").spec.template.metadata.labels;
    for (const [key, value] of Object.entries(service.spec.selector)) expect(pods[key]).toBe(value);
    expect(portNumber(container("Deployment", "controller"), service.spec.ports[0].targetPort)).toBe(3000);
  });

  it("gives every container probes on served paths and ports, and resource requests and limits", () => {
    for (const o of objects.filter((o) => o.kind === "Deployment" || o.kind === "StatefulSet")) {
      for (const c of o.spec.template.spec.containers) {
        for (const probe of [c.readinessProbe, c.livenessProbe]) {
          expect(probe, `${c.name} probes`).toBeTruthy();
          const http = probe.httpGet;
          if (http && c.name in SERVED_PATHS) expect(SERVED_PATHS[c.name as keyof typeof SERVED_PATHS]).toContain(http.path);
          const port = http?.port ?? probe.tcpSocket?.port;
          if (port !== undefined) expect(portNumber(c, port), `${c.name} probe port ${port}`).toBeTypeOf("number");
        }
        const { requests, limits } = c.resources;
        for (const resource of ["cpu", "memory"]) {
          expect(requests[resource], `${c.name} ${resource} request`).toBeTruthy();
          expect(limits[resource], `${c.name} ${resource} limit`).toBeTruthy();
        }
        expect(cores(limits.cpu), `${c.name} cpu`).toBeGreaterThanOrEqual(cores(requests.cpu));
        expect(mebibytes(limits.memory), `${c.name} memory`).toBeGreaterThanOrEqual(mebibytes(requests.memory));
      }
    }
  });

  it("takes controllers and invokers out of service on /readyz (the controller's on its ops port) and restarts them on /healthz", () => {
    for (const name of ROLES) {
      const c = container("Deployment", name);
      expect(c.readinessProbe.httpGet, name).toEqual({ path: "/readyz", port: OPS_PORT_NAME[name] });
      expect(c.livenessProbe.httpGet, name).toEqual({ path: "/healthz", port: "http" });
      expect(portNumber(c, "http"), name).toBe(Number(envValue(c, "PORT").value));
    }
    const controller = container("Deployment", "controller");
    expect(portNumber(controller, "ops")).toBe(Number(envValue(controller, "OPS_PORT").value));
    expect(portNumber(controller, "ops")).not.toBe(portNumber(controller, "http"));
  });

  it("gives invokers time to finish the longest action, and controllers their blocking wait, before they are killed", () => {
    const grace = (name: string) => find("Deployment", name).spec.template.spec.terminationGracePeriodSeconds as number;
    const preStopSeconds = (name: string) => {
      const command: string[] | undefined = container("Deployment", name).lifecycle?.preStop?.exec?.command;
      return command ? Number(command[command.indexOf("sleep") + 1]) : 0;
    };
    // Records to write and messages to acknowledge after the action returns.
    const margin = 15;
    expect(grace("invoker")).toBeGreaterThanOrEqual(preStopSeconds("invoker") + LIMITS.timeout.max / 1000 + margin);
    expect(grace("controller")).toBeGreaterThanOrEqual(preStopSeconds("controller") + LIMITS.blockingWaitMs / 1000 + margin);
    expect(grace("controller")).toBeLessThan(grace("invoker"));
    // The load balancer learns a terminating controller is gone before it stops accepting.
    expect(preStopSeconds("controller")).toBeGreaterThanOrEqual(3);
  });

  it("annotates controller and invoker pods for Prometheus to scrape /metrics on their operations port", () => {
    for (const name of ROLES) {
      const annotations = find("Deployment", name).spec.template.metadata.annotations ?? {};
      expect(annotations["prometheus.io/scrape"], name).toBe("true");
      expect(annotations["prometheus.io/path"], name).toBe("/metrics");
      expect(Number(annotations["prometheus.io/port"]), name).toBe(portNumber(container("Deployment", name), OPS_PORT_NAME[name]));
    }
  });

  it("scales controllers and invokers with autoscaling/v2 on CPU, between at least two pods and a higher maximum", () => {
    for (const name of ROLES) {
      const hpas = objects.filter((o) => o.kind === "HorizontalPodAutoscaler" && o.spec.scaleTargetRef.name === name);
      expect(hpas, name).toHaveLength(1);
      const [hpa] = hpas;
      expect(hpa.apiVersion).toBe("autoscaling/v2");
      expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name });
      expect(hpa.spec.minReplicas, name).toBeGreaterThanOrEqual(2);
      expect(hpa.spec.maxReplicas, name).toBeGreaterThan(hpa.spec.minReplicas);
      const cpu = hpa.spec.metrics.find((m: K8sObject) => m.type === "Resource" && m.resource.name === "cpu");
      expect(cpu.resource.target.type).toBe("Utilization");
      expect(cpu.resource.target.averageUtilization).toBeGreaterThan(0);
      expect(cpu.resource.target.averageUtilization).toBeLessThanOrEqual(100);
      // A replicas in the Deployment would reset the autoscaler's count on every apply.
      expect(find("Deployment", name).spec.replicas, name).toBeUndefined();
    }
  });

  it("scales invokers down one pod at a time, and rolls them out by starting a new pod before an old one drains", () => {
    const hpa = find("HorizontalPodAutoscaler", "invoker");
    const down = hpa.spec.behavior.scaleDown;
    expect(down.policies).toEqual([{ type: "Pods", value: 1, periodSeconds: expect.any(Number) }]);
    expect(down.stabilizationWindowSeconds).toBeGreaterThanOrEqual(300);
    const rollout = find("Deployment", "invoker").spec.strategy;
    expect(rollout.type).toBe("RollingUpdate");
    expect(rollout.rollingUpdate.maxUnavailable).toBe(0);
    expect(rollout.rollingUpdate.maxSurge).toBeGreaterThanOrEqual(1);
  });

  it("budgets disruptions for every workload with one PDB selecting its pods and no others", () => {
    const workloads = objects.filter((o) => o.kind === "Deployment" || o.kind === "StatefulSet");
    const budgets = objects.filter((o) => o.kind === "PodDisruptionBudget");
    const selects = (pdb: K8sObject, workload: K8sObject) =>
      Object.entries(pdb.spec.selector.matchLabels).every(([key, value]) => workload.spec.template.metadata.labels[key] === value);
    // One eviction at a time where there are several pods; none (a deliberate move) where there is one.
    const expected: Record<string, number> = { controller: 1, invoker: 1, nats: 0, postgres: 0 };
    expect(workloads.map((w) => w.metadata.name).sort()).toEqual(Object.keys(expected).sort());
    for (const workload of workloads) {
      const name = workload.metadata.name;
      const mine = budgets.filter((pdb) => selects(pdb, workload));
      expect(mine, name).toHaveLength(1);
      expect(mine[0].apiVersion).toBe("policy/v1");
      expect(mine[0].spec.selector.matchExpressions).toBeUndefined();
      expect(mine[0].spec.maxUnavailable, name).toBe(expected[name]);
      for (const other of workloads.filter((w) => w !== workload)) expect(selects(mine[0], other), `${name} PDB selects ${other.metadata.name}`).toBe(false);
    }
    expect(budgets).toHaveLength(workloads.length);
  });

  it("gives the invoker memory for every workerd child at its cap, the spare at rest and the supervisor", () => {
    const limitMb = mebibytes(container("Deployment", "invoker").resources.limits.memory);
    const children = Number(configValue("WORKERD_CHILDREN"));
    const capMb = Number(configValue("WORKERD_MEMORY_MB"));
    expect(children).toBeGreaterThanOrEqual(2);
    // ~105 MB for the spare at rest (measured; it holds compiled CPython), rounded up; 256 MB for the supervisor.
    expect(limitMb).toBeGreaterThanOrEqual(children * capMb + 112 + 256);
    // A full invoker's activations at the smallest memory limit fit in its children's caps.
    expect(Number(configValue("INVOKER_CONCURRENCY")) * LIMITS.memory.min).toBeLessThanOrEqual(children * capMb);
  });
});
