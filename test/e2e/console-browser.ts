// The web console in a real Chromium (Debian's, driven by playwright-core),
// against a running host: one browser, one page session walking through
// what a user does. Run by test/e2e/console.test.ts (npm start) and
// test/node/console.test.ts (the Node host).
import { existsSync } from "node:fs";
import type { Browser, Page, Request } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { client, GUEST_KEY } from "./scenarios.js";

/** Chromium to drive: CHROMIUM_PATH, else Debian's (`.ci/services.sh` installs it). */
export const CHROMIUM = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].find((path) => path && existsSync(path));

export const NO_CHROMIUM_MESSAGE =
  "console browser tests skipped: no Chromium at /usr/bin/chromium (apt-get install chromium, or set CHROMIUM_PATH; .ci/services.sh installs it)";

const WRONG_KEY = `${GUEST_KEY.split(":")[0]}:${"x".repeat(64)}`;

const ACTION_CODE = `function main(params) {
  console.log("console says hi to " + params.name);
  return { greeting: "Hi, " + params.name };
}`;

const unique = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 8)}`;

/** Registers the console walk-through against the host `url()` answers (known once its beforeAll ran). */
export function consoleWalkthrough(url: () => string): void {
  let browser: Browser;
  let page: Page;
  let origin: string;
  const requests: { url: string; authorization?: string }[] = [];
  const names = { action: unique("con-hello"), upper: unique("con-upper"), exclaim: unique("con-exclaim"), sequence: unique("con-seq"), trigger: unique("con-trig"), rule: unique("con-rule") };

  beforeAll(async () => {
    origin = new URL(url()).origin;
    const ow = client({ apihost: origin });
    // A sequence of two components and a rule, made through the REST API as any client would.
    await ow.actions.create({ name: names.upper, action: "function main(p) { return { text: String(p.text).toUpperCase() } }" });
    await ow.actions.create({ name: names.exclaim, action: "function main(p) { return { text: p.text + '!' } }" });
    await ow.actions.create({ name: names.sequence, action: { exec: { kind: "sequence", components: [`/guest/${names.upper}`, `/guest/${names.exclaim}`] } } });
    await ow.triggers.create({ name: names.trigger });
    await ow.rules.create({ name: names.rule, trigger: names.trigger, action: names.upper });

    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    // Every request the page makes, whatever its origin; any other origin is refused (nothing may leave).
    await context.route("**/*", (route) => {
      const request: Request = route.request();
      requests.push({ url: request.url(), authorization: request.headers().authorization });
      return new URL(request.url()).origin === origin ? route.continue() : route.abort();
    });
    page = await context.newPage();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it("refuses a wrong key with the API's 401 message and keeps nothing", async () => {
    await page.goto(`${origin}/console`);
    await page.getByTestId("api-key").fill(WRONG_KEY);
    await page.getByTestId("sign-in").click();
    await expect.poll(() => page.getByTestId("error").textContent()).toBe("401: The supplied authentication is invalid");
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it("signs in with the guest key, kept in sessionStorage only", async () => {
    await page.getByTestId("api-key").fill(GUEST_KEY);
    await page.getByTestId("sign-in").click();
    await expect.poll(() => page.getByTestId("namespace").textContent()).toBe("guest");
    const stored = await page.evaluate(() => ({ session: Object.values(sessionStorage), local: localStorage.length }));
    expect(stored).toEqual({ session: [GUEST_KEY], local: 0 });
    expect(await page.context().cookies()).toEqual([]);
    await expect.poll(() => page.getByTestId("count-rules").textContent()).not.toBe("0");
  });

  it("creates an action from the editor", async () => {
    await page.goto(`${origin}/console#/new-action`);
    await page.getByTestId("action-name-input").fill(names.action);
    await page.locator("[data-testid=code-editor] .cm-content").fill(ACTION_CODE);
    await page.getByTestId("save-action").click();
    await expect.poll(() => page.getByTestId("action-version").textContent()).toBe("0.0.1");
    const saved = await client({ apihost: origin }).actions.get({ name: names.action });
    expect((saved.exec as { code?: string }).code).toBe(ACTION_CODE);
    expect(saved.exec.kind).toMatch(/^nodejs/);
  });

  it("shows OpenWhisk's message inline when creating an action that exists", async () => {
    await page.goto(`${origin}/console#/new-action`);
    await page.getByTestId("action-name-input").fill(names.action);
    await page.getByTestId("save-action").click();
    await expect.poll(() => page.getByTestId("error").textContent()).toBe("resource already exists");
    await page.goto(`${origin}/console#/actions/${names.action}`);
    await page.getByTestId("invoke-params").waitFor();
  });

  let invoked = "";
  it("invokes it with JSON parameters and shows result, logs, duration and cold/warm", async () => {
    await page.getByTestId("invoke-params").fill('{"name": "console"}');
    await page.getByTestId("invoke").click();
    await page.getByTestId("invoke-result").waitFor();
    expect(JSON.parse((await page.getByTestId("invoke-output").textContent())!)).toEqual({ greeting: "Hi, console" });
    expect(await page.getByTestId("invoke-logs").textContent()).toContain("stdout: console says hi to console");
    expect(await page.getByTestId("invoke-duration").textContent()).toMatch(/^\d+ ms$/);
    invoked = (await page.getByTestId("invoke-activation").textContent())!;
    const record = await client({ apihost: origin }).activations.get({ name: invoked });
    const cold = (record.annotations ?? []).some((a: { key: string }) => a.key === "initTime");
    expect(await page.getByTestId("invoke-start").textContent()).toBe(cold ? "cold" : "warm");
  });

  it("shows a new activation in the live list without a reload", async () => {
    await page.goto(`${origin}/console#/activations`);
    await page.locator(`[data-testid=activation-row][data-id="${invoked}"]`).waitFor();
    // Started after the page listed: only the live tail can bring it in.
    const { activationId } = await client({ apihost: origin }).actions.invoke({ name: names.action, params: { name: "tail" } });
    await page.locator(`[data-testid=activation-row][data-id="${activationId}"]`).waitFor({ timeout: 20_000 });
    // The list API's name filter, and the status filter on top of it.
    await page.getByTestId("filter-name").fill(names.upper);
    await page.getByTestId("filter-name").press("Enter");
    await expect.poll(() => page.getByTestId("activation-row").count()).toBe(0);
    await page.getByTestId("filter-name").fill(names.action);
    await page.getByTestId("filter-name").press("Enter");
    await expect.poll(() => page.locator(`[data-testid=activation-row][data-id="${activationId}"]`).count()).toBe(1);
    expect(new Set(await page.locator("[data-testid=activation-row] td:nth-child(2)").allTextContents())).toEqual(new Set([`guest/${names.action}`]));
    await page.getByTestId("filter-status").selectOption("error");
    await expect.poll(() => page.getByTestId("activation-row").count()).toBe(0);
  });

  it("draws a sequence's components on its timeline with their durations", async () => {
    const record = await client({ apihost: origin }).actions.invoke({ name: names.sequence, blocking: true, params: { text: "hey" } });
    expect(record.response?.result).toEqual({ text: "HEY!" });
    await page.goto(`${origin}/console#/activations/${record.activationId}`);
    const rows = page.getByTestId("timeline-row");
    await expect.poll(() => rows.count()).toBe(2);
    const ow = client({ apihost: origin });
    for (const [i, id] of (record.logs as string[]).entries()) {
      const component = await ow.activations.get({ name: id });
      const row = rows.nth(i);
      expect(await row.getAttribute("data-id")).toBe(id);
      expect(await row.locator(".label").textContent()).toBe(component.name);
      expect(Number(await row.getAttribute("data-duration"))).toBe(component.duration);
      expect(await row.getByTestId("timeline-duration").textContent()).toBe(`${component.duration} ms`);
    }
    expect([names.upper, names.exclaim]).toEqual(await rows.locator(".label").allTextContents());
  });

  it("disables a rule", async () => {
    await page.goto(`${origin}/console#/rules`);
    const row = page.locator(`tr[data-rule="${names.rule}"]`);
    await expect.poll(() => row.getByTestId("rule-status").textContent()).toBe("active");
    await row.getByTestId("rule-disable").click();
    await expect.poll(() => row.getByTestId("rule-status").textContent()).toBe("inactive");
    expect((await client({ apihost: origin }).rules.get({ name: names.rule })).status).toBe("inactive");
  });

  it("serves Swagger UI at /api/v1/docs from this origin", async () => {
    await page.goto(`${origin}/api/v1/docs`);
    await expect.poll(() => page.locator(".swagger-ui .info .title").textContent(), { timeout: 20_000 }).toContain("OpenWhisk REST API");
    await page.goto(`${origin}/console#/rules`);
  });

  it("signs out and forgets the key", async () => {
    await page.getByTestId("sign-out").click();
    await page.getByTestId("api-key").waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.goto(`${origin}/console#/actions`);
    await page.getByTestId("api-key").waitFor();
  });

  it("sent the key to its own origin only, and asked no other origin for anything", async () => {
    expect(requests.length).toBeGreaterThan(10);
    expect(requests.filter((r) => new URL(r.url).origin !== origin).map((r) => r.url)).toEqual([]);
    const withKey = requests.filter((r) => r.authorization);
    expect(withKey.length).toBeGreaterThan(5);
    expect(withKey.every((r) => new URL(r.url).origin === origin)).toBe(true);
    const [user, pass] = GUEST_KEY.split(":");
    expect(requests.filter((r) => r.url.includes(user) || r.url.includes(pass))).toEqual([]);
  });
}
