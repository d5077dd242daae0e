// Runtime kinds. Every Node.js kind runs in a V8 isolate with nodejs_compat;
// every Python kind runs the one CPython the npm `pyodide` package bundles
// (PYTHON_RUNS), in an isolate without it. Versions OpenWhisk lists are
// accepted and kept as given so clients see the kind they asked for.
// `nodejs:default` and `python:default` become the blessed version, as in a
// stock install.
import { Messages, WhiskError } from "./errors.js";

export const DEFAULT_NODEJS_KIND = "nodejs:20";
export const NODEJS_KINDS = ["nodejs:18", "nodejs:20", "nodejs:22"] as const;
/** Older versions OpenWhisk has listed; accepted and run on the same runtime. */
const LEGACY_NODEJS_KINDS = ["nodejs:10", "nodejs:12", "nodejs:14", "nodejs:16"];
export const SEQUENCE_KIND = "sequence";

export const DEFAULT_PYTHON_KIND = "python:3";
export const PYTHON_KINDS = ["python:3", "python:3.10", "python:3.11", "python:3.12"] as const;
/** What every Python kind really runs: Pyodide 314's CPython (docs/compatibility.md). */
export const PYTHON_RUNS = "CPython 3.14 (Pyodide 314)";

const SUPPORTED = new Set<string>([...NODEJS_KINDS, ...LEGACY_NODEJS_KINDS, ...PYTHON_KINDS]);

/** A kind whose actions run the Python runner. */
export function isPythonKind(kind: string): boolean {
  return kind.startsWith("python:");
}

/** The kind to store for the kind a client sent; 400 for kinds this platform cannot run. */
export function resolveKind(requested: string): string {
  const kind = requested.trim().toLowerCase();
  if (kind === "nodejs:default") return DEFAULT_NODEJS_KIND;
  if (kind === "python:default") return DEFAULT_PYTHON_KIND;
  if (SUPPORTED.has(kind)) return kind;
  throw new WhiskError(
    400,
    `${Messages.malformedJson}\n${Messages.invalidRuntime(kind, [...NODEJS_KINDS, "nodejs:default", ...PYTHON_KINDS, "python:default", SEQUENCE_KIND])}`,
  );
}
