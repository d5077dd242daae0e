#!/usr/bin/env node
// Takes the README's console screenshots (docs/images/console-*.png) with
// Debian's Chromium through playwright-core, against a running server with
// the development guest key:
//
//   npm start                      # or npm run start:node (then --url http://127.0.0.1:3000)
//   npm run screenshots -- [--url http://127.0.0.1:8787]
//
// It first makes a few demo entities in the guest namespace (a web action, a
// sequence, a trigger with two rules) and some activations to chart.
import { chromium } from "playwright-core";

const args = process.argv.slice(2);
const url = args.includes("--url") ? args[args.indexOf("--url") + 1] : "http://127.0.0.1:8787";
const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const KEY = process.env.GUEST_AUTH ?? "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP";
const OUT = new URL("../docs/images/", import.meta.url).pathname;

async function api(method, path, body) {
  const res = await fetch(`${url}/api/v1/namespaces/_/${path}`, {
    method,
    headers: { Authorization: `Basic ${btoa(KEY)}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok && res.status !== 502 && res.status !== 202) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

const nodeAction = (code) => ({ exec: { kind: "nodejs:20", code } });
await api("PUT", "packages/demo?overwrite=true", {});
await api("PUT", "actions/demo/hello?overwrite=true", {
  ...nodeAction(`function main(params) {
  const name = params.name || "world";
  console.log("greeting " + name);
  return { body: "<h3>Hello, " + name + "!</h3>" };
}
`),
  annotations: [{ key: "web-export", value: true }, { key: "raw-http", value: false }, { key: "final", value: true }],
  parameters: [],
});
await api("PUT", "actions/split?overwrite=true", nodeAction(`function main({ text = "" }) { return { words: text.split(/\\s+/) }; }`));
await api("PUT", "actions/count?overwrite=true", nodeAction(`function main({ words = [] }) { return { count: words.length }; }`));
await api("PUT", "actions/flaky?overwrite=true", nodeAction(`function main() { if (Math.random() < 0.2) throw new Error("flaked"); return { ok: true }; }`));
await api("PUT", "actions/wordcount?overwrite=true", { exec: { kind: "sequence", components: ["/guest/split", "/guest/count"] } });
await api("PUT", "triggers/uploaded?overwrite=true", {});
for (const [rule, action] of [["count-on-upload", "wordcount"], ["greet-on-upload", "demo/hello"]]) {
  await api("PUT", `rules/${rule}?overwrite=true`, { trigger: "/_/uploaded", action: `/_/${action}` });
}

for (let i = 0; i < 40; i++) {
  await api("POST", `actions/${i % 2 ? "flaky" : "demo/hello"}?blocking=true`, { name: `n${i}` });
}
const sequence = await api("POST", "actions/wordcount?blocking=true", { text: "the quick brown fox jumps over the lazy dog" });
const fired = await api("POST", "triggers/uploaded", { text: "a fired payload" });
await new Promise((resolve) => setTimeout(resolve, 3000));

const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
const page = await browser.newPage({ viewport: { width: 1280, height: 860 }, deviceScaleFactor: 1 });
await page.goto(`${url}/console`);
await page.getByTestId("api-key").fill(KEY);
await page.getByTestId("sign-in").click();
await page.getByTestId("chart-duration").waitFor();
await page.waitForTimeout(500);
await page.screenshot({ path: `${OUT}console-overview.png` });

await page.goto(`${url}/console#/actions/demo/hello`);
await page.getByTestId("invoke-params").fill('{"name": "console"}');
await page.getByTestId("invoke").click();
await page.getByTestId("invoke-result").waitFor();
await page.screenshot({ path: `${OUT}console-action.png`, fullPage: true });

/** Opens an activation's page and waits for its timeline. */
async function openTimeline(id) {
  await page.goto(`${url}/console#/activations/${id}`);
  await page.locator(`[data-testid=activation-id]:text-is("${id}")`).waitFor();
  await page.getByTestId("timeline-row").first().waitFor();
  await page.waitForTimeout(300);
}

await openTimeline(sequence.activationId);
await page.screenshot({ path: `${OUT}console-timeline.png` });

await openTimeline(fired.activationId);
await page.screenshot({ path: `${OUT}console-trigger-timeline.png` });
await browser.close();
console.log(`screenshots in ${OUT}`);
