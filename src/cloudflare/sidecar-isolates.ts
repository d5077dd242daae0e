// IsolateHost over the local isolate sidecar (src/node/isolate-sidecar.ts):
// what the invoker Durable Objects run actions through under `npm start`,
// where the Worker Loader of wrangler dev's own workerd would let one
// runaway isolate wedge the whole local server. Deployed Workers do not set
// ISOLATE_SIDECAR_URL and keep the Worker Loader, whose limits.cpuMs
// Cloudflare enforces.
//
// A run sends the module set only the first time a key is run here, or when
// the sidecar answers that it no longer holds the isolate (a child it
// replaced, a sidecar restarted), so a warm run carries the request alone.
import { IsolateStartError, type IsolateHost, type IsolateRun, type IsolateSpec } from "../ports/isolate-host.js";
import { encodeModules } from "../runtime/module-wire.js";
import type { RunRequest } from "../runtime/protocol.js";

/** Keys whose module set this invoker has sent, bounded: a forgotten one costs a 409 and a resend. */
const MAX_SENT = 1_000;

type SidecarAnswer = IsolateRun | { missing: true } | { startError: string } | { error: string };

export class SidecarIsolates implements IsolateHost {
  private readonly sent = new Set<string>();

  constructor(
    private readonly url: string,
    private readonly secret: string,
  ) {}

  async run(spec: IsolateSpec, request: RunRequest): Promise<IsolateRun> {
    let answer = await this.post(spec, request, !this.sent.has(spec.key));
    if ("missing" in answer) answer = await this.post(spec, request, true);
    if ("startError" in answer) throw new IsolateStartError(answer.startError);
    if ("error" in answer) throw new Error(`isolate sidecar: ${answer.error}`);
    if ("missing" in answer) throw new Error(`isolate sidecar: ${spec.key} could not be loaded`);
    return answer;
  }

  discard(key: string): void {
    this.sent.delete(key);
    void this.call("/discard", { key }).catch((err) => console.error("isolate sidecar: discard failed:", err));
  }

  private async post(spec: IsolateSpec, request: RunRequest, withModules: boolean): Promise<SidecarAnswer> {
    const modules = withModules ? encodeModules(await spec.build()) : undefined;
    const { key, memoryMb, timeoutMs, codeGeneration } = spec;
    const response = await this.call("/run", { key, memoryMb, timeoutMs, codeGeneration, request, modules });
    const answer = (await response.json()) as SidecarAnswer;
    if (withModules && response.ok) {
      if (this.sent.size >= MAX_SENT) this.sent.delete(this.sent.values().next().value!);
      this.sent.add(spec.key);
    }
    return answer;
  }

  private call(path: string, body: unknown): Promise<Response> {
    return fetch(`${this.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${this.secret}` },
      body: JSON.stringify(body),
    });
  }
}
