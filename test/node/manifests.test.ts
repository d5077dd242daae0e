// k8s/ rendered by `kubectl kustomize` (with secrets.env generated as at
// deploy time) and checked against what the Node host reads: images,
// commands, ports, environment, ConfigMap and Secret references, probes.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { parseAuthKey } from "../../src/core/auth.js";
import { CONTROLLER_ENV, INVOKER_ENV, type EnvVar } from "../../src/node/config.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const hasKubectl = spawnSync("kubectl", ["version", "--client"], { stdio: "ignore" }).status === 0;
if (!hasKubectl) {
  const message = "manifest tests need kubectl (Debian: apt-get install kubernetes-client)";
  if (process.env.CI) throw new Error(message);
  console.warn(`SKIPPED: ${message}`);
}

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered Kubernetes objects are plain JSON */
type K8sObject = any;

/** What each role's server answers on, for the probes. */
const SERVED_PATHS = { controller: ["/healthz", "/api/v1"], invoker: ["/healthz"] };
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

  it("puts everything in the edgewhisk namespace", () => {
    expect(find("Namespace", "edgewhisk")).toBeTruthy();
    for (const o of objects.filter((o) => o.kind !== "Namespace")) expect(o.metadata.namespace, `${o.kind} ${o.metadata.name}`).toBe("edgewhisk");
  });

  it("runs the controller (2 replicas) and the invokers from one image built by the Dockerfile", () => {
    expect(find("Deployment", "controller").spec.replicas).toBe(2);
    const images = new Set([container("Deployment", "controller").image, container("StatefulSet", "invoker").image]);
    expect(images.size).toBe(1);
    const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
    expect(dockerfile).toMatch(/^FROM node:22-slim$/m);
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev/m);
    // npm ci's prepare script bundles the packages actions may require: it must be in the image first.
    expect(dockerfile.indexOf("COPY scripts ./scripts")).toBeGreaterThan(0);
    expect(dockerfile.indexOf("COPY scripts ./scripts")).toBeLessThan(dockerfile.indexOf("RUN npm ci"));
    expect(readFileSync(join(ROOT, ".dockerignore"), "utf8")).toContain("!scripts/bundle-isolate-libraries.mjs");
    expect(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).dependencies).toHaveProperty("esbuild");
    for (const copied of ["src", "migrations"]) expect(dockerfile).toMatch(new RegExp(`^COPY ${copied} \\./${copied}$`, "m"));
    for (const [kind, name] of [["Deployment", "controller"], ["StatefulSet", "invoker"]]) {
      const command: string[] = container(kind, name).command;
      expect(command.slice(0, 3)).toEqual(["node", "--import", "tsx"]);
      expect(existsSync(join(ROOT, command[3])), command[3]).toBe(true);
      expect(command[3]).toMatch(/^src\//);
      expect(command[4]).toBe(name);
    }
  });

  it("sets exactly the environment each role reads, from objects that exist", () => {
    for (const [kind, name] of [["Deployment", "controller"], ["StatefulSet", "invoker"]]) {
      const c = container(kind, name);
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

  it("points DATABASE_URL at the PostgreSQL Service, user, database and password", () => {
    const postgres = container("StatefulSet", "postgres");
    const service = find("Service", "postgres");
    for (const [kind, name] of [["Deployment", "controller"], ["StatefulSet", "invoker"]]) {
      const c = container(kind, name);
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

  it("points NATS_URL at a JetStream server with its own volume", () => {
    const url = new URL(configValue("NATS_URL"));
    const service = find("Service", url.hostname);
    expect(service.spec.ports[0].port).toBe(Number(url.port));
    const nats = container("StatefulSet", url.hostname);
    expect(nats.args).toContain("--jetstream");
    expect(portNumber(nats, service.spec.ports[0].targetPort)).toBe(4222);
    const storeDir = nats.args[nats.args.indexOf("--store_dir") + 1];
    expect(nats.volumeMounts.map((m: K8sObject) => m.mountPath)).toContain(storeDir);
  });

  it("lists one INVOKER_URLS entry per invoker pod, at its stable name and port", () => {
    const invokers = find("StatefulSet", "invoker");
    const service = find("Service", invokers.spec.serviceName);
    expect(service.spec.clusterIP).toBe("None");
    const port = portNumber(invokers.spec.template.spec.containers[0], service.spec.ports[0].targetPort);
    const expected = Array.from({ length: invokers.spec.replicas }, (_, i) => `http://invoker-${i}.${service.metadata.name}:${port}`);
    expect(configValue("INVOKER_URLS").split(",")).toEqual(expected);
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
        expect(c.resources.requests.cpu && c.resources.requests.memory, `${c.name} requests`).toBeTruthy();
        expect(c.resources.limits.memory, `${c.name} memory limit`).toBeTruthy();
      }
    }
  });

  it("leaves the invoker room for a serving and a spare workerd child at their memory cap", () => {
    const limit = container("StatefulSet", "invoker").resources.limits.memory as string;
    const limitMb = Number(/^(\d+)Mi$/.exec(limit)?.[1] ?? Number(/^(\d+)Gi$/.exec(limit)?.[1]) * 1024);
    expect(limitMb).toBeGreaterThan(2 * Number(configValue("WORKERD_MEMORY_MB")));
  });
});
