// The bookkeeping both isolate hosts share (src/invoker/worker-loader.ts):
// which loader id a key's isolate has, how discarding retires it, how a
// failed start reads, and the one compatibility date isolates run with.
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { LoaderIsolates } from "../../src/cloudflare/loader-isolates.js";
import { IsolateStartError, type IsolateSpec } from "../../src/ports/isolate-host.js";
import { IsolateGenerations, ISOLATE_COMPATIBILITY_DATE, startErrorOf } from "../../src/invoker/worker-loader.js";
import type { RunReply, RunRequest } from "../../src/runtime/protocol.js";

describe("isolate generations", () => {
  it("names a key's isolate by key, generation and API host", () => {
    const generations = new IsolateGenerations();
    expect(generations.id("guest/hello@0.0.1#abc", "https://a.example")).toBe("guest/hello@0.0.1#abc~0@https://a.example");
    expect(generations.id("k", "https://b.example")).not.toBe(generations.id("k", "https://a.example"));
  });

  it("gives a discarded key a fresh id, every time, and leaves other keys alone", () => {
    const generations = new IsolateGenerations();
    const before = generations.id("k", "h");
    generations.discard("k");
    const after = generations.id("k", "h");
    expect(after).not.toBe(before);
    expect(after).toBe("k~1@h");
    generations.discard("k");
    expect(generations.id("k", "h")).toBe("k~2@h");
    expect(generations.id("other", "h")).toBe("other~0@h");
  });

  it("remembers a bounded number of retired keys, forgetting the one retired longest ago", () => {
    const generations = new IsolateGenerations(2);
    generations.discard("a");
    generations.discard("b");
    generations.discard("a"); // retired again: now the most recent
    generations.discard("c");
    expect(generations.id("a", "h")).toBe("a~2@h");
    expect(generations.id("b", "h")).toBe("b~0@h");
    expect(generations.id("c", "h")).toBe("c~1@h");
  });
});

describe("a Worker Loader's failed start", () => {
  it("reads as the isolate's own error, without the loader's wrapping", () => {
    const err = startErrorOf("Failed to start Worker:\nUncaught SyntaxError: Unexpected token '{'\n  at action.js:1");
    expect(err).toBeInstanceOf(IsolateStartError);
    expect(err?.message).toBe("SyntaxError: Unexpected token '{'\n  at action.js:1");
  });

  it("is not read into any other error", () => {
    expect(startErrorOf("Uncaught SyntaxError: x")).toBeUndefined();
    expect(startErrorOf("Network connection lost. Failed to start Worker: x")).toBeUndefined();
    expect(startErrorOf("")).toBeUndefined();
  });
});

describe("the isolate compatibility date", () => {
  const workerdDate = (version: string) => {
    const [, yyyy, mm, dd] = /^1\.(\d{4})(\d{2})(\d{2})\./.exec(version)!;
    return `${yyyy}-${mm}-${dd}`;
  };

  it("is a date both workerd builds in use support and no later than issue 13's ceiling", () => {
    expect(ISOLATE_COMPATIBILITY_DATE).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(ISOLATE_COMPATIBILITY_DATE <= "2026-08-22").toBe(true);
    // The workerd of the Node host's children, and the one miniflare runs the Cloudflare host's tests in.
    const require = createRequire(join(process.cwd(), "package.json"));
    const childWorkerd = require("workerd/package.json") as { version: string };
    const miniflareWorkerd = createRequire(require.resolve("miniflare"))("workerd/package.json") as { version: string };
    for (const { version } of [childWorkerd, miniflareWorkerd]) {
      expect(ISOLATE_COMPATIBILITY_DATE <= workerdDate(version), `workerd ${version}`).toBe(true);
    }
  });

  it("is written down once: no other source names an isolate compatibility date", () => {
    const sources = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) return sources(path);
        return /\.(ts|js)$/.test(entry.name) && !entry.name.includes(".bundle.") ? [path] : [];
      });
    const naming = sources(join(process.cwd(), "src"))
      .filter((path) => /compatibility_?date\s*[:=]\s*["'`]\d{4}-/i.test(readFileSync(path, "utf8")))
      .map((path) => relative(process.cwd(), path));
    expect(naming).toEqual(["src/invoker/worker-loader.ts"]);
  });
});

describe("the Cloudflare host's loader ids", () => {
  type Code = { compatibilityDate: string; mainModule: string };

  /** A Worker Loader that records what it was asked to load and runs `reply`. */
  function fakeLoader(reply: (id: string) => Promise<RunReply>) {
    const loaded: { id: string; code: Code }[] = [];
    const loader = {
      get(id: string, getCode: () => Promise<Code>) {
        const code = getCode().then((built) => loaded.push({ id, code: built }));
        return {
          getEntrypoint: () => ({ run: async () => (await code, reply(id)) }),
        };
      },
    };
    return { loader: loader as unknown as WorkerLoader, loaded };
  }

  const spec: IsolateSpec = { key: "guest/hello", memoryMb: 256, timeoutMs: 1_000, build: async () => ({ mainModule: "runner.js", modules: {} }) };
  const request = { apiHost: "https://api.example" } as RunRequest;
  const ok: RunReply = { outcome: "result", result: {}, logs: [], truncated: false };

  it("loads with the shared date and id, keeps the isolate warm, and loads afresh after a discard", async () => {
    const { loader, loaded } = fakeLoader(async () => ok);
    const isolates = new LoaderIsolates(loader, () => ({}) as Fetcher);
    expect(await isolates.run(spec, request)).toMatchObject({ cold: true });
    expect(await isolates.run(spec, request)).toMatchObject({ cold: false });
    isolates.discard(spec.key);
    expect(await isolates.run(spec, request)).toMatchObject({ cold: true });
    expect(loaded.map(({ id }) => id)).toEqual(["guest/hello~0@https://api.example", "guest/hello~1@https://api.example"]);
    for (const { code } of loaded) expect(code.compatibilityDate).toBe(ISOLATE_COMPATIBILITY_DATE);
  });

  it("answers a failed start as an IsolateStartError and any other failure as it is", async () => {
    const failing = (message: string) =>
      new LoaderIsolates(fakeLoader(async () => Promise.reject(new Error(message))).loader, () => ({}) as Fetcher);
    await expect(failing("Failed to start Worker:\nUncaught ReferenceError: x is not defined").run(spec, request)).rejects.toEqual(
      new IsolateStartError("ReferenceError: x is not defined"),
    );
    const other = await failing("Network connection lost.").run(spec, request).catch((err: unknown) => err);
    expect(other).not.toBeInstanceOf(IsolateStartError);
    expect((other as Error).message).toBe("Network connection lost.");
  });
});
