import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { setResponseHeaders } from "../../src/api/response-headers.js";

describe("setResponseHeaders", () => {
  function appAnswering(make: () => Response) {
    const app = new Hono();
    const seen: { made?: Response; sent?: Response } = {};
    app.use("*", async (c, next) => {
      await next();
      setResponseHeaders(c, { "X-One": "1", "X-Two": "2" });
      seen.sent = c.res;
    });
    app.get("/", () => (seen.made = make()));
    return { app, seen };
  }

  it("sets the headers on the handler's own response, without copying it", async () => {
    const { app, seen } = appAnswering(() => Response.json({ ok: true }, { headers: { "X-Kept": "yes" } }));
    const res = await app.request("/");
    expect(seen.sent).toBe(seen.made);
    expect(res.headers.get("x-one")).toBe("1");
    expect(res.headers.get("x-two")).toBe("2");
    expect(res.headers.get("x-kept")).toBe("yes");
    expect(await res.json()).toEqual({ ok: true });
  });

  it("copies a response whose headers are immutable once, keeping its status, headers and body", async () => {
    // A redirect's headers are immutable, as those of a fetched response are.
    const { app, seen } = appAnswering(() => Response.redirect("http://example.test/elsewhere", 302));
    const res = await app.request("/");
    expect(seen.sent).not.toBe(seen.made);
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("http://example.test/elsewhere");
    expect(res.headers.get("x-one")).toBe("1");
    expect(res.headers.get("x-two")).toBe("2");
  });
});
