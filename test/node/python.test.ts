// Python actions in real workerd children (the Node host's and npm start's
// isolate host), booted from the real Pyodide files and memory snapshot:
// OpenWhisk's Python runtime semantics, error texts included.
import { zipSync, strToU8 } from "fflate";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bytesToBase64 } from "../../src/core/base64.js";
import { pythonRunnerSource, runnerSource } from "../../src/node/runner-source.js";
import { WorkerdSupervisor } from "../../src/node/workerd/supervisor.js";
import type { IsolateSpec } from "../../src/ports/isolate-host.js";
import { actionModules } from "../../src/runtime/modules.js";
import type { RunRequest } from "../../src/runtime/protocol.js";

function spec(key: string, code: string, options: { binary?: boolean; main?: string; timeoutMs?: number; memoryMb?: number } = {}): IsolateSpec {
  const source = { code, binary: options.binary ?? false, main: options.main ?? "main", kind: "python:3" };
  return {
    key: `guest>guest/${key}@0.0.1#|${source.main}`,
    memoryMb: options.memoryMb ?? 256,
    timeoutMs: options.timeoutMs ?? 10_000,
    build: async () => actionModules(runnerSource, source, {}, pythonRunnerSource),
  };
}

function runRequest(params: Record<string, unknown>, fields: Partial<RunRequest> = {}): RunRequest {
  return {
    params,
    initEnv: {},
    mainName: "main",
    activationId: "a".repeat(32),
    transactionId: "t",
    namespace: "guest",
    actionName: "/guest/py",
    actionVersion: "0.0.1",
    apiHost: "http://127.0.0.1",
    deadline: Date.now() + 10_000,
    logLimitBytes: 1024 * 1024,
    ...fields,
  };
}

/** Until the child has used no CPU for 200 ms: what it set going in its background (a spare interpreter) is done. */
async function childIdle(supervisor: WorkerdSupervisor): Promise<void> {
  const pid = supervisor.status().children[0].pid!;
  const cpu = () => {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return Number(fields[11]) + Number(fields[12]);
  };
  for (let i = 0, last = -1; i < 100 && cpu() !== last; i++) {
    last = cpu();
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const zipBase64 = (files: Record<string, string>) =>
  bytesToBase64(zipSync(Object.fromEntries(Object.entries(files).map(([name, text]) => [name, strToU8(text)]))));

const HELLO = `import logging, os
print("loading")
def main(args):
    print("hello", args.get("name"))
    logging.warning("careful")
    return {"greeting": "Hello " + args.get("name", "stranger"), "namespace": os.environ["__OW_NAMESPACE"]}
`;

describe("Python actions in workerd children", () => {
  const supervisor = new WorkerdSupervisor({ memoryLimitMb: 1024, children: 1 });

  beforeAll(() => supervisor.start());
  afterAll(() => supervisor.stop());

  it("runs main(args) and records print and logging as stdout and stderr lines", async () => {
    // The child's first Python isolate, at the smallest memory limit: Pyodide's one-time load is the child's, not the action's.
    const first = await supervisor.run(spec("hello", HELLO, { memoryMb: 128 }), runRequest({ name: "py" }));
    expect(first.cold).toBe(true);
    expect(first.reply).toMatchObject({ outcome: "result", result: { greeting: "Hello py", namespace: "guest" } });
    expect(first.reply.logs).toEqual([
      expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z stdout: loading$/),
      expect.stringMatching(/Z stdout: hello py$/),
      expect.stringMatching(/Z stderr: WARNING:root:careful$/),
    ]);
    const warm = await supervisor.run(spec("hello", HELLO, { memoryMb: 128 }), runRequest({}));
    expect(warm).toMatchObject({ cold: false, reply: { outcome: "result", result: { greeting: "Hello stranger" } } });
    expect(warm.reply.logs).toHaveLength(2);
    // The log limit counts lines as stored: one line of ~50 bytes fits in 60, the second does not.
    const limited = await supervisor.run(spec("hello", HELLO, { memoryMb: 128 }), runRequest({ name: "py" }, { logLimitBytes: 60 }));
    expect(limited.reply).toMatchObject({ outcome: "result", truncated: true, logs: [expect.stringMatching(/stdout: hello py$/)] });
  });

  it("calls the function exec.main names", async () => {
    const code = "def niam(args):\n    return {'called': 'niam'}\n";
    const run = await supervisor.run(spec("niam", code, { main: "niam" }), runRequest({}, { mainName: "niam" }));
    expect(run.reply).toMatchObject({ outcome: "result", result: { called: "niam" } });
  });

  it("answers the stock runtime's texts for an exception, a result that is no dictionary, and failed inits", async () => {
    const cases: [string, string, Record<string, unknown>][] = [
      ["raises", "def main(args):\n    return {'x': 5 / 0}\n", { outcome: "result", result: { error: "division by zero" } }],
      ["string", "def main(args):\n    return 'not a json object'\n", { outcome: "developer", message: "The action did not return a dictionary or array." }],
      ["none", "def main(args):\n    pass\n", { outcome: "developer", message: "The action did not produce a valid JSON or JSON Array response: null" }],
      ["nan", "def main(args):\n    return {'x': float('nan')}\n", { outcome: "developer", message: "The action did not return a dictionary or array." }],
      ["syntax", '10 PRINT "Hello!"\n20 GOTO 10\n', { outcome: "init", message: "invalid syntax" }],
      ["import", "import iamnotsupported\ndef main(args):\n    return {}\n", { outcome: "init", message: "cannot start action: Command exited abruptly during initialization." }],
      ["nomain", "def other(args):\n    return {}\n", { outcome: "init", message: "cannot start action: Command exited abruptly during initialization." }],
    ];
    for (const [key, code, expected] of cases) {
      const run = await supervisor.run(spec(key, code), runRequest({}));
      expect(run.reply, key).toMatchObject(expected);
      if (key === "raises" || key === "import") expect(run.reply.logs.join("\n"), key).toContain("stderr: Traceback (most recent call last):");
    }
  });

  it("gives each activation only its own __OW_ values, even two at once on one isolate", async () => {
    const code = `import os, time
def main(args):
    seen = {k: v for k, v in os.environ.items() if k.startswith("__OW_")}
    return {"id": os.environ["__OW_ACTIVATION_ID"], "key": os.environ.get("__OW_API_KEY"), "count": len(seen)}
`;
    const withKey = runRequest({}, { activationId: "1".repeat(32), apiKey: "secret-key" });
    const without = runRequest({}, { activationId: "2".repeat(32) });
    const [one, two] = await Promise.all([supervisor.run(spec("env", code), withKey), supervisor.run(spec("env", code), without)]);
    expect(one.reply).toMatchObject({ outcome: "result", result: { id: "1".repeat(32), key: "secret-key", count: 8 } });
    expect(two.reply).toMatchObject({ outcome: "result", result: { id: "2".repeat(32), key: null, count: 7 } });
  });

  it("runs a zip's __main__.py with its packages, the stock virtualenv/ layout and its files", async () => {
    const code = zipBase64({
      "__main__.py": `from helpers.greet import greet
import six_like
def main(args):
    with open("data.txt") as f:
        return {"greeting": greet(args["name"]), "data": f.read(), "venv": six_like.NAME}
`,
      "helpers/__init__.py": "",
      "helpers/greet.py": "def greet(name):\n    return 'Hi ' + name\n",
      "data.txt": "from the archive",
      // What `virtualenv` writes, trimmed to what activate_this.py does.
      "virtualenv/bin/activate_this.py": `import os, site, sys
bin_dir = os.path.dirname(os.path.abspath(__file__))
site.addsitedir(os.path.realpath(os.path.join(bin_dir, "../lib/python3.11/site-packages")))
`,
      "virtualenv/lib/python3.11/site-packages/six_like/__init__.py": "NAME = 'from site-packages'\n",
    });
    const run = await supervisor.run(spec("zip", code, { binary: true }), runRequest({ name: "zip" }));
    expect(run.reply).toMatchObject({
      outcome: "result",
      result: { greeting: "Hi zip", data: "from the archive", venv: "from site-packages" },
    });
    const missing = await supervisor.run(spec("zip-nomain", zipBase64({ "echo.py": "def main(a):\n    return a\n" }), { binary: true }), runRequest({}));
    expect(missing.reply).toMatchObject({ outcome: "init", message: "Zip file does not include main__\n" });
  });

  it("answers a spinning action with a timeout at its deadline", async () => {
    const started = Date.now();
    const run = await supervisor.run(spec("spin", "def main(args):\n    while True:\n        pass\n", { timeoutMs: 1_500 }), runRequest({}, { deadline: Date.now() + 1_500 }));
    expect(run.reply.outcome).toBe("timeout");
    expect(Date.now() - started).toBeLessThan(8_000);
  });

  it("gives each new Python action an interpreter of its own, the spare a child boots ahead included", async () => {
    // Each marks the interpreter it runs in, and answers the mark it found there first.
    const marking = (name: string) => `import builtins\ndef main(args):\n    seen = getattr(builtins, "owner", None)\n    builtins.owner = "${name}"\n    return {"seen": seen}\n`;
    await supervisor.run(spec("mark-first", marking("first")), runRequest({}));
    for (const name of ["a", "b", "c"]) {
      // The child boots its spare once it is idle; the next new action takes it.
      await childIdle(supervisor);
      const run = await supervisor.run(spec(`mark-${name}`, marking(name)), runRequest({}));
      expect(run).toMatchObject({ cold: true, reply: { outcome: "result", result: { seen: null } } });
    }
    for (const name of ["a", "b", "c"]) {
      const again = await supervisor.run(spec(`mark-${name}`, marking(name)), runRequest({}));
      expect(again).toMatchObject({ cold: false, reply: { outcome: "result", result: { seen: name } } });
    }
  });
});
