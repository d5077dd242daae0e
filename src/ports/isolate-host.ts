// The IsolateHost port: what an invoker runs action code through. The Worker
// Loader on Cloudflare (src/cloudflare/loader-isolates.ts), or under
// `npm start` the local isolate sidecar (src/cloudflare/sidecar-isolates.ts);
// supervised workerd children on Kubernetes (src/node/workerd/supervisor.ts).
import type { ActionModules } from "../runtime/modules.js";
import type { RunReply, RunRequest } from "../runtime/protocol.js";

/**
 * Whether action code may generate code from strings (eval, new Function)
 * while it runs: `native` lets it; under `precompiled` the runtime refuses
 * it, and the module set may carry precompiled functions instead. Each host's
 * choice: src/invoker/code-generation.ts.
 */
export type CodeGeneration = "native" | "precompiled";

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
