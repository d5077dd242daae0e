// /console and Swagger UI's files as both hosts serve them: the same routes
// and headers over a host's AssetFetcher (here the Node host's, on a
// directory of built files).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app.js";
import { CONSOLE_CSP, DOCS_CSP } from "../../src/console/routes.js";
import { diskAssets } from "../../src/node/console-assets.js";
import type { Platform } from "../../src/ports/platform.js";

const built = mkdtempSync(join(tmpdir(), "console-assets-"));
mkdirSync(join(built, "console"));
mkdirSync(join(built, "docs"));
writeFileSync(join(built, "console/index.html"), "<!DOCTYPE html><title>console</title>");
writeFileSync(join(built, "console/console.js"), "export {};");
writeFileSync(join(built, "docs/swagger-ui.css"), "body{}");
writeFileSync(join(built, "secret.txt"), "not to be served");

// Serving files reads no port: a platform with none in it.
const noPlatform = () => ({}) as Platform;
const app = createApp(noPlatform, () => diskAssets(built));
const get = (path: string, headers: Record<string, string> = {}) => app.request(path, { headers });

afterAll(() => rmSync(built, { recursive: true, force: true }));

describe("the console's files", () => {
  it("serves the page at /console and /console/ with the console's policy", async () => {
    for (const path of ["/console", "/console/"]) {
      const res = await get(path);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(res.headers.get("content-security-policy")).toBe(CONSOLE_CSP);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(await res.text()).toContain("<title>console</title>");
    }
    expect(CONSOLE_CSP).toMatch(/script-src 'self';/);
    expect(CONSOLE_CSP).not.toMatch(/unsafe-inline|unsafe-eval/);
  });

  it("answers 304 to the ETag it gave", async () => {
    const first = await get("/console/console.js");
    expect(first.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^".+"$/);
    const again = await get("/console/console.js", { "If-None-Match": etag });
    expect(again.status).toBe(304);
    expect(again.headers.get("content-security-policy")).toBe(CONSOLE_CSP);
  });

  it("serves Swagger UI's files under /api/v1/docs with the docs' policy, and nothing else from the build", async () => {
    const css = await get("/api/v1/docs/swagger-ui.css");
    expect(css.status).toBe(200);
    expect(css.headers.get("content-security-policy")).toBe(DOCS_CSP);
    for (const path of ["/console/missing.js", "/console/..%2Fsecret.txt", "/console/.hidden", "/console/%2E%2E%2Fsecret.txt", "/api/v1/docs/secret.txt"]) {
      expect((await get(path)).status, path).toBe(404);
    }
  });

  it("says the console is not built when its page is missing, and serves nothing where a host gives no files", async () => {
    const empty = mkdtempSync(join(tmpdir(), "console-empty-"));
    const unbuilt = await createApp(noPlatform, () => diskAssets(empty)).request("/console");
    expect(unbuilt.status).toBe(404);
    expect(await unbuilt.text()).toContain("not built");
    rmSync(empty, { recursive: true });
    expect((await createApp(noPlatform).request("/console")).status).toBe(404);
  });
});
