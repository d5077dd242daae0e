// Runtime kinds. Every Node.js kind runs in a V8 isolate with nodejs_compat;
// versions OpenWhisk lists are accepted and kept as given so clients see
// the kind they asked for. `nodejs:default` becomes the blessed version, as
// in a stock install.
import { Messages, WhiskError } from "./errors.js";

export const DEFAULT_NODEJS_KIND = "nodejs:20";
export const NODEJS_KINDS = ["nodejs:18", "nodejs:20", "nodejs:22"] as const;
/** Older versions OpenWhisk has listed; accepted and run on the same runtime. */
const LEGACY_NODEJS_KINDS = ["nodejs:10", "nodejs:12", "nodejs:14", "nodejs:16"];
export const SEQUENCE_KIND = "sequence";

const SUPPORTED = new Set<string>([...NODEJS_KINDS, ...LEGACY_NODEJS_KINDS]);

/** The kind to store for the kind a client sent; 400 for kinds this platform cannot run. */
export function resolveKind(requested: string): string {
  const kind = requested.trim().toLowerCase();
  if (kind === "nodejs:default") return DEFAULT_NODEJS_KIND;
  if (SUPPORTED.has(kind)) return kind;
  throw new WhiskError(
    400,
    `${Messages.malformedJson}\n${Messages.invalidRuntime(kind, [...NODEJS_KINDS, "nodejs:default", SEQUENCE_KIND])}`,
  );
}
