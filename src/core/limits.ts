// Every system limit in one table, read by validation, the invokers, the
// runner and docs/compatibility.md alike. Values are those of a stock
// OpenWhisk install, with intra-action concurrency enabled (isolates serve
// concurrent activations natively).

const MB = 1024 * 1024;

export const LIMITS = {
  timeout: { min: 100, max: 300_000, std: 60_000 },
  memory: { min: 128, max: 512, std: 256 },
  logs: { min: 0, max: 10, std: 10 },
  concurrency: { min: 1, max: 500, std: 1 },
  codeBytes: 48 * MB,
  parametersBytes: 1 * MB,
  resultBytes: 1 * MB,
  /** Largest request body the API accepts: the code limit plus room for the JSON around it. */
  requestBytes: 50 * MB,
  invocationsPerMinute: 120,
  concurrentInvocations: 100,
  firesPerMinute: 60,
  sequenceLength: 50,
  list: { std: 30, max: 200 },
  /** A blocking invoke waits this long before answering 202 with the activation id. */
  blockingWaitMs: 60_000,
} as const;

export interface ActionLimits {
  timeout: number;
  memory: number;
  logs: number;
  concurrency: number;
}

export const DEFAULT_ACTION_LIMITS: ActionLimits = {
  timeout: LIMITS.timeout.std,
  memory: LIMITS.memory.std,
  logs: LIMITS.logs.std,
  concurrency: LIMITS.concurrency.std,
};

export const MEGABYTE = MB;

/** The OpenWhisk message for a limit outside its bounds, or undefined when it is inside. */
export function limitViolation(field: keyof ActionLimits, value: number): string | undefined {
  const { min, max } = LIMITS[field];
  const exceeds = value > max;
  if (!exceeds && value >= min) return undefined;
  const bound = exceeds ? max : min;
  const relation = exceeds ? "exceeds allowed threshold of" : "below allowed threshold of";
  switch (field) {
    case "timeout":
      return `duration ${value} milliseconds ${relation} ${bound} milliseconds`;
    case "memory":
      return `memory size ${value} MB ${relation} ${bound} MB`;
    case "logs":
      return `log size ${value} MB ${relation} ${bound} MB`;
    case "concurrency":
      return `concurrency ${value} ${relation} ${bound}`;
  }
}
