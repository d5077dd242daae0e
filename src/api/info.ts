// Informational routes: the platform description at `/` and the API
// description at `/api/v1`, shaped as OpenWhisk's controller answers them.
import { Hono } from "hono";
import { DEFAULT_NODEJS_KIND, DEFAULT_PYTHON_KIND, NODEJS_KINDS, PYTHON_KINDS, PYTHON_RUNS } from "../core/kinds.js";
import { LIMITS, MEGABYTE } from "../core/limits.js";
import type { ApiEnv } from "./context.js";

export const BUILD = { date: "2026-11-24", number: "edgewhisk-0.1.0" };

export function platformInfo(apiPaths: string[]) {
  return {
    description: "OpenWhisk",
    support: { github: "https://github.com/apache/openwhisk/issues", slack: "http://slack.openwhisk.org" },
    api_paths: apiPaths,
    limits: {
      actions_per_minute: LIMITS.invocationsPerMinute,
      triggers_per_minute: LIMITS.firesPerMinute,
      concurrent_actions: LIMITS.concurrentInvocations,
      sequence_length: LIMITS.sequenceLength,
      min_action_duration: LIMITS.timeout.min,
      max_action_duration: LIMITS.timeout.max,
      min_action_memory: LIMITS.memory.min * MEGABYTE,
      max_action_memory: LIMITS.memory.max * MEGABYTE,
      min_action_logs: LIMITS.logs.min * MEGABYTE,
      max_action_logs: LIMITS.logs.max * MEGABYTE,
    },
    runtimes: {
      nodejs: NODEJS_KINDS.map((kind) => ({
        kind,
        default: kind === DEFAULT_NODEJS_KIND,
        deprecated: false,
        attached: false,
        requireMain: false,
        image: `edgewhisk/isolate-${kind.replace(":", "")}`,
      })),
      // Every Python kind runs the same bundled CPython; `runs` says which.
      python: PYTHON_KINDS.map((kind) => ({
        kind,
        default: kind === DEFAULT_PYTHON_KIND,
        deprecated: false,
        attached: false,
        requireMain: false,
        image: `edgewhisk/isolate-${kind.replace(":", "")}`,
        runs: PYTHON_RUNS,
      })),
    },
  };
}

export const infoRoutes = new Hono<ApiEnv>()
  .get("/", (c) => c.json(platformInfo(["/api/v1"])))
  .get("/api/v1", (c) =>
    c.json({
      description: "OpenWhisk API",
      api_version: "1.0.0",
      api_version_path: "v1",
      api_paths: ["/api/v1"],
      build: BUILD.date,
      buildno: BUILD.number,
      swagger_paths: { ui: "/docs", "api-docs": "/api-docs" },
    }),
  );
