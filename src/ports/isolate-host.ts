// The IsolateHost port: what an invoker runs action code through. The Worker
// Loader on Cloudflare (src/cloudflare/loader-isolates.ts), or under
// `npm start` the local isolate sidecar (src/cloudflare/sidecar-isolates.ts);
// supervised workerd children on Kubernetes (src/node/workerd/supervisor.ts).
import type { CodeGeneration } from "../invoker/code-generation.js";
import type { ActionModules } from "../runtime/modules.js";
import type { RunReply, RunRequest } from "../runtime/protocol.js";

export interface IsolateSpec {
  /** One isolate per key: a new version, code digest or init environment gets a new one. */
  key: string;
  /** Called only when no warm isolate exists for the key. */
  build: () => Promise<ActionModules>;
  memoryMb: number;
  timeoutMs: number;
  /** Whether the isolate may eval at run time (absent: it may not); the host turns it into loader flags. */
  codeGeneration?: CodeGeneration;
}

export interface IsolateRun {
  reply: RunReply;
  /** True when this run built the isolate. */
  cold: boolean;
}

/** The isolate failed before the runner could answer (e.g. a syntax error in the code). */
export class IsolateStartError extends Error {}

export interface IsolateHost {
  run(spec: IsolateSpec, request: RunRequest): Promise<IsolateRun>;
  /** Never reuse the isolate for this key again (after a timeout, say). */
  discard(key: string): void;
}
