// The web console served by `npm start`, in a real Chromium.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, consoleWalkthrough, NO_CHROMIUM_MESSAGE } from "./console-browser.js";
import { startWranglerServer, type RunningServer } from "./server.js";

if (!CHROMIUM) console.warn(NO_CHROMIUM_MESSAGE);

describe.skipIf(!CHROMIUM)("the console on npm start", () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startWranglerServer();
  });

  afterAll(async () => {
    await server?.stop();
  });

  it("answers /console with the page under a strict Content-Security-Policy", async () => {
    const res = await fetch(`${server.url}/console`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(res.headers.get("content-security-policy")).toContain("connect-src 'self'");
    expect(await res.text()).toContain('<script type="module" src="/console/console.js"></script>');
  });

  consoleWalkthrough(() => server.url);
});
