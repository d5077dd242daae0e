// End-to-end scenarios driven by the real `openwhisk` npm client. One file,
// run against every host (test/e2e/cloudflare.test.ts, test/node/...).
import openwhisk from "openwhisk";
import { describe, expect, it } from "vitest";

export const GUEST_KEY =
  "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP";

/** The chapter's hello.js: a plain script defining main. */
export const HELLO_JS = `function main(params) {
  var name = params.name || 'World';
  console.log('greeting ' + name);
  return { payload: 'Hello, ' + name + '!' };
}
`;

/** A second namespace every host under test seeds, for cross-namespace scenarios. */
export const OTHER_NAMESPACE = "other";
export const OTHER_KEY =
  "5a1b2c3d-0000-4000-8000-000000000002:otherKey0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU";

export interface Target {
  apihost: string;
}

export function client(target: Target, apiKey = GUEST_KEY) {
  return openwhisk({ apihost: target.apihost, api_key: apiKey });
}

const unique = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 8)}`;

async function poll<T>(read: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await read();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

export function actionScenarios(target: () => Target) {
  describe("actions through the openwhisk client", () => {
    it("creates hello.js, invokes it blocking and non-blocking, reads logs and result, lists, updates and deletes", async () => {
      const ow = client(target());
      const name = unique("hello");

      const created = await ow.actions.create({ name, action: HELLO_JS });
      expect(created).toMatchObject({ name, namespace: "guest", version: "0.0.1", exec: { kind: "nodejs:20" } });

      const blocking = await ow.actions.invoke({ name, blocking: true, params: { name: "Kubernetes" } });
      expect(blocking.response).toMatchObject({ status: "success", success: true, result: { payload: "Hello, Kubernetes!" } });
      expect(blocking.activationId).toMatch(/^[0-9a-f]{32}$/);

      const result = await ow.actions.invoke({ name, blocking: true, result: true, params: { name: "edge" } });
      expect(result).toEqual({ payload: "Hello, edge!" });

      const queued = await ow.actions.invoke({ name, params: { name: "queue" } });
      expect(queued.activationId).toMatch(/^[0-9a-f]{32}$/);
      const activation = await poll(() => ow.activations.get({ name: queued.activationId }));
      expect(activation).toMatchObject({ name, namespace: "guest", activationId: queued.activationId });
      expect(activation.response?.result).toEqual({ payload: "Hello, queue!" });

      const logs = await ow.activations.logs({ name: queued.activationId });
      expect(logs.logs).toHaveLength(1);
      expect(logs.logs[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z stdout: greeting queue$/);
      const activationResult = await ow.activations.result({ name: queued.activationId });
      expect(activationResult).toMatchObject({ success: true, result: { payload: "Hello, queue!" } });

      const listed = await ow.activations.list({ name });
      expect(listed.map((a: { activationId: string }) => a.activationId)).toEqual(
        expect.arrayContaining([blocking.activationId, queued.activationId]),
      );

      const actions = await ow.actions.list();
      expect(actions.map((a) => a.name)).toContain(name);

      const updated = await ow.actions.update({ name, action: HELLO_JS.replace("Hello", "Howdy") });
      expect(updated.version).toBe("0.0.2");
      expect(await ow.actions.invoke({ name, blocking: true, result: true, params: { name: "v2" } })).toEqual({
        payload: "Howdy, v2!",
      });

      await ow.actions.delete({ name });
      await expect(ow.actions.get({ name })).rejects.toMatchObject({ statusCode: 404 });
    });

    it("gives actions the preinstalled openwhisk module, as the stock Node.js runtime does", async () => {
      const ow = client(target());
      const callee = unique("callee");
      const caller = unique("caller");
      await ow.actions.create({ name: callee, action: HELLO_JS });
      await ow.actions.create({
        name: caller,
        action: `import openwhisk from "openwhisk";
export async function main({ callee }) {
  const ow = openwhisk();
  const greeting = await ow.actions.invoke({ name: callee, blocking: true, result: true, params: { name: "nested" } });
  const queued = await ow.actions.invoke({ name: callee, params: { name: "queued" } });
  return { greeting, queued: queued.activationId };
}`,
        annotations: { "provide-api-key": true },
      });
      const result = await ow.actions.invoke({ name: caller, blocking: true, result: true, params: { callee } });
      expect(result.greeting).toEqual({ payload: "Hello, nested!" });
      const queued = await poll(() => ow.activations.get({ name: result.queued }));
      expect(queued).toMatchObject({ name: callee, namespace: "guest", response: { result: { payload: "Hello, queued!" } } });

      // Without provide-api-key the client has no key, as in OpenWhisk.
      await ow.actions.update({ name: caller, annotations: { "provide-api-key": false } });
      const refused = await ow.actions.invoke({ name: caller, blocking: true, params: { callee } }).catch((err) => err.error);
      expect(refused.response.status).toBe("application error");
      expect(refused.response.result.error.message).toMatch(/^Invalid constructor options\. Missing api_key parameter/);
    });

    it("rejects a wrong key with OpenWhisk's 401", async () => {
      const ow = client(target(), "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:wrong");
      await expect(ow.actions.list()).rejects.toMatchObject({
        statusCode: 401,
        error: { error: "The supplied authentication is invalid" },
      });
    });
  });
}

export function packageScenarios(target: () => Target) {
  describe("packages, bindings, sequences and the catalog through the openwhisk client", () => {
    it("takes a namespace that carries a package or a leading slash, as aio and list results pass it", async () => {
      const ow = client(target());
      // `aio rt package list /whisk.system`: the client sends %2Fwhisk.system.
      const system = await ow.packages.list({ namespace: "/whisk.system" });
      expect(system.map((p) => p.name)).toEqual(expect.arrayContaining(["utils", "samples"]));
      // `aio rt package delete pkg --recursive` deletes the package's actions by `namespace: 'guest/pkg'`.
      const pkg = unique("nspath");
      await ow.packages.create({ name: pkg });
      await ow.actions.create({ name: `${pkg}/color`, action: "function main() { return { color: 'red' } }" });
      const listed = await ow.actions.list({ namespace: `guest/${pkg}` });
      expect(listed.map((a) => a.name)).toEqual(["color"]);
      await ow.actions.delete({ name: "color", namespace: `guest/${pkg}` });
      await expect(ow.actions.get({ name: `${pkg}/color` })).rejects.toMatchObject({ statusCode: 404 });
      await ow.packages.delete({ name: pkg });
    });

    it("creates, reads, lists and deletes a package with an action", async () => {
      const ow = client(target());
      const pkg = unique("pkg");
      const created = await ow.packages.create({ name: pkg, package: { parameters: [{ key: "greeting", value: "Hi" }] } });
      expect(created).toMatchObject({ name: pkg, namespace: "guest", binding: {} });
      await ow.actions.create({ name: `${pkg}/greet`, action: "function main(p) { return { text: p.greeting + ', ' + p.name } }" });
      const got = await ow.packages.get({ name: pkg });
      expect(got.actions?.map((a: { name?: string }) => a.name)).toEqual(["greet"]);
      expect((await ow.packages.list()).map((p) => p.name)).toContain(pkg);
      expect(await ow.actions.invoke({ name: `${pkg}/greet`, blocking: true, result: true, params: { name: "pkg" } })).toEqual({
        text: "Hi, pkg",
      });
      await expect(ow.packages.delete({ name: pkg })).rejects.toMatchObject({ statusCode: 409 });
      await ow.actions.delete({ name: `${pkg}/greet` });
      await ow.packages.delete({ name: pkg });
      await expect(ow.packages.get({ name: pkg })).rejects.toMatchObject({ statusCode: 404 });
    });

    it("binds a package with parameters and invokes a shared package from another namespace", async () => {
      const ow = client(target());
      const other = client(target(), OTHER_KEY);
      const shared = unique("shared");
      await ow.packages.create({ name: shared, package: { publish: true, parameters: [{ key: "owner", value: "guest" }] } });
      await ow.actions.create({ name: `${shared}/who`, action: "function main(p) { return { owner: p.owner, name: p.name } }" });

      const direct = await other.actions.invoke({ name: `/guest/${shared}/who`, blocking: true, result: true, params: { name: "x" } });
      expect(direct).toEqual({ owner: "guest", name: "x" });

      const binding = unique("binding");
      await other.packages.create({
        name: binding,
        package: { binding: { namespace: "guest", name: shared }, parameters: [{ key: "owner", value: "bound" }] },
      });
      expect(await other.actions.invoke({ name: `${binding}/who`, blocking: true, result: true, params: { name: "y" } })).toEqual({
        owner: "bound",
        name: "y",
      });
      await expect(other.actions.update({ name: `/guest/${shared}/who`, action: "function main(){return {}}" })).rejects.toMatchObject({
        statusCode: 403,
      });
    });

    it("runs a sequence of three actions and stops at the failing one", async () => {
      const ow = client(target());
      const [a, b, c] = [unique("s1"), unique("s2"), unique("s3")];
      await ow.actions.create({ name: a, action: "function main(p) { return { n: (p.n || 0) + 1 } }" });
      await ow.actions.create({ name: b, action: "function main(p) { return p.n > 1 ? { error: 'too big' } : { n: p.n * 10 } }" });
      await ow.actions.create({ name: c, action: "function main(p) { return { n: p.n + 5 } }" });
      const seq = unique("seq");
      // The client supports sequences; its type declarations do not list the option.
      const sequence = { name: seq, sequence: [`/guest/${a}`, `/guest/${b}`, `/guest/${c}`] };
      await ow.actions.create(sequence as unknown as Parameters<typeof ow.actions.create>[0]);
      expect(await ow.actions.invoke({ name: seq, blocking: true, result: true })).toEqual({ n: 15 });
      const failed = await ow.actions.invoke({ name: seq, blocking: true, params: { n: 1 } }).catch((err) => err.error);
      expect(failed.response).toMatchObject({ success: false, result: { error: "too big" } });
      expect(failed.logs).toHaveLength(2);
    });

    it("runs a conductor action's composition, as in OpenWhisk's conductor documentation", async () => {
      const ow = client(target());
      const [triple, increment, conductor] = [unique("triple"), unique("increment"), unique("conductor")];
      await ow.actions.create({ name: triple, action: "function main({ value }) { return { value: value * 3 } }" });
      await ow.actions.create({ name: increment, action: "function main({ value }) { return { value: value + 1 } }" });
      await ow.actions.create({
        name: conductor,
        action: `function main(params) {
          const step = params.$step || 0;
          delete params.$step;
          if (step === 0) return { action: "${triple}", params, state: { $step: 1 } };
          if (step === 1) return { action: "${increment}", params, state: { $step: 2 } };
          return { params };
        }`,
        annotations: { conductor: true },
      });
      const record = await ow.actions.invoke({ name: conductor, blocking: true, params: { value: 3 } });
      expect(record.response?.result).toEqual({ value: 10 });
      expect(record.logs).toHaveLength(5);
      expect(record.annotations).toContainEqual({ key: "conductor", value: true });
    });

    it("echoes through /whisk.system/utils/echo as in the chapter", async () => {
      const ow = client(target());
      expect(await ow.actions.invoke({ name: "/whisk.system/utils/echo", blocking: true, result: true, params: { message: "hello" } })).toEqual({
        message: "hello",
      });
    });
  });
}

export function triggerScenarios(target: () => Target) {
  describe("triggers and rules through the openwhisk client", () => {
    it("fires a trigger through a rule, and not after the rule is disabled", async () => {
      const ow = client(target());
      const action = unique("on-fire");
      const trigger = unique("trig");
      const rule = unique("rule");
      await ow.actions.create({ name: action, action: "function main(p) { return { fired: p.note } }" });
      await ow.triggers.create({ name: trigger });
      const created = await ow.rules.create({ name: rule, trigger, action });
      expect(created).toMatchObject({ name: rule, status: "active" });

      const fired = await ow.triggers.invoke({ name: trigger, params: { note: "first" } });
      expect(fired.activationId).toMatch(/^[0-9a-f]{32}$/);
      const record = await poll(() => ow.activations.get({ name: fired.activationId }));
      const ruleLog = JSON.parse(record.logs![0]);
      expect(ruleLog).toMatchObject({ success: true, rule: `guest/${rule}` });
      const actionRecord = await poll(() => ow.activations.get({ name: ruleLog.activationId }));
      expect(actionRecord.response?.result).toEqual({ fired: "first" });

      await ow.rules.disable({ name: rule });
      expect((await ow.rules.get({ name: rule })).status).toBe("inactive");
      const before = (await ow.activations.list({ name: action })).length;
      const second = await ow.triggers.invoke({ name: trigger, params: { note: "second" } });
      expect(second?.activationId).toBeUndefined();
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect((await ow.activations.list({ name: action })).length).toBe(before);

      await ow.rules.delete({ name: rule });
      await ow.triggers.delete({ name: trigger });
    });
  });
}

/** The chapter's hello.js for web actions: a plain script returning `{body}`. */
export const CHAPTER_WEB_HELLO = `function main(args) {
  var msg = "you didn't tell me who you are.";
  if (args.name) {
    msg = \`hello \${args.name}!\`
  }
  return {body: \`<html><body><h3><center>\${msg}</center></h3></body></html>\`}
}
`;

export function webScenarios(target: () => Target) {
  describe("the chapter's web action flow", () => {
    it("creates /guest/demo/hello with --web true and serves it over plain HTTP", async () => {
      const ow = client(target());
      const pkg = unique("demo");
      await ow.packages.create({ name: pkg });
      // What `wsk action create /guest/demo/hello hello.js --web true` sends.
      await ow.actions.create({
        name: `/guest/${pkg}/hello`,
        action: CHAPTER_WEB_HELLO,
        annotations: { "web-export": true, "raw-http": false, final: true },
      });
      const url = `${target().apihost}/api/v1/web/guest/${pkg}/hello.http`;
      const named = await fetch(`${url}?name=Kubernetes%20for%20Serverless%20Applications`);
      expect(named.status).toBe(200);
      expect(named.headers.get("content-type")).toMatch(/^text\/html/);
      expect(await named.text()).toBe(
        "<html><body><h3><center>hello Kubernetes for Serverless Applications!</center></h3></body></html>",
      );
      const anonymous = await fetch(url);
      expect(await anonymous.text()).toBe("<html><body><h3><center>you didn't tell me who you are.</center></h3></body></html>");
      const id = anonymous.headers.get("x-openwhisk-activation-id")!;
      const record = await poll(() => ow.activations.get({ name: id }));
      expect(record.name).toBe("hello");
    });

    it("serves a web action through an API gateway route made with the client's routes", async () => {
      const ow = client(target());
      const name = unique("routed");
      const basepath = `/${unique("api")}`;
      await ow.actions.create({ name, action: CHAPTER_WEB_HELLO, annotations: { "web-export": true } });
      // The client's typings leave out responsetype and routes.get, which it has.
      const routes = ow.routes as unknown as Record<"create" | "get" | "list" | "delete", (options?: Record<string, unknown>) => Promise<any>>;
      const created = await routes.create({ basepath, relpath: "/greet", operation: "GET", action: name, responsetype: "http" });
      expect(created.gwApiUrl).toMatch(new RegExp(`^${target().apihost}/api/[0-9a-f-]+${basepath}$`));
      expect(created.apidoc.paths["/greet"].get["x-openwhisk"]).toMatchObject({ namespace: "guest", action: name });

      const page = await fetch(`${created.gwApiUrl}/greet?name=gateway`);
      expect(page.status).toBe(200);
      expect(await page.text()).toBe("<html><body><h3><center>hello gateway!</center></h3></body></html>");

      const listed = await routes.list();
      expect(listed.apis.map((api: { value: { apidoc: { basePath: string } } }) => api.value.apidoc.basePath)).toContain(basepath);
      const got = await routes.get({ basepath });
      expect(got.apis).toHaveLength(1);
      expect(got.apis[0].value.gwApiUrl).toBe(created.gwApiUrl);

      await routes.delete({ basepath });
      expect((await fetch(`${created.gwApiUrl}/greet`)).status).toBe(404);
      await expect(routes.delete({ basepath })).rejects.toMatchObject({ statusCode: 502 });
    });
  });
}
