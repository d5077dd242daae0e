import { describe, expect, it } from "vitest";
import { decodeModules, encodeModules } from "../../src/runtime/module-wire.js";

describe("module sets over JSON", () => {
  it("carries data modules as base64 and every other kind as it is, through a JSON round trip", () => {
    const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) % 256);
    const set = {
      mainModule: "runner.js",
      modules: { "runner.js": { js: "export default {}" }, "action/a.cjs": { cjs: "module.exports = 1" }, "action/file.bin": { data: bytes.buffer } },
    };
    const wire = JSON.parse(JSON.stringify(encodeModules(set)));
    expect(wire.modules["action/file.bin"]).toEqual({ base64: expect.any(String) });
    const back = decodeModules(wire);
    expect(back.mainModule).toBe("runner.js");
    expect(back.modules["runner.js"]).toEqual({ js: "export default {}" });
    expect(back.modules["action/a.cjs"]).toEqual({ cjs: "module.exports = 1" });
    expect(new Uint8Array((back.modules["action/file.bin"] as { data: ArrayBuffer }).data)).toEqual(bytes);
  });
});
