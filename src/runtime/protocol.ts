// What the invoker sends to the runner module in an action isolate, and what
// comes back (see src/runtime/isolate/runner.js).

export interface RunRequest {
  /** Arguments of main(). */
  params: Record<string, unknown>;
  /** Parameters marked init, set as environment when the isolate initialises. */
  initEnv: Record<string, unknown>;
  mainName: string;
  activationId: string;
  transactionId: string;
  namespace: string;
  /** `/ns/pkg/name`, as __OW_ACTION_NAME. */
  actionName: string;
  actionVersion: string;
  apiHost: string;
  /** Only for actions annotated provide-api-key. */
  apiKey?: string;
  /** Epoch ms by which main must have answered. */
  deadline: number;
  logLimitBytes: number;
  /**
   * Start the isolate only: the runner answers `prepared` without loading
   * the action's module, so no user code runs and the first activation
   * still initialises it (src/invoker/isolate-preparation.ts).
   */
  prepare?: true;
}

interface ReplyCommon {
  logs: string[];
  truncated: boolean;
  /** Set on the activation that initialised the isolate. */
  initMs?: number;
  runMs?: number;
}

export type RunReply = ReplyCommon &
  (
    | { outcome: "result"; result: unknown }
    | { outcome: "developer"; message: string }
    | { outcome: "init"; message: string }
    | { outcome: "timeout" }
    | { outcome: "prepared" }
  );
