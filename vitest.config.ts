import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig(async () => ({
  test: {
    // Two test files at a time even on a 2-core machine (vitest's default
    // would be one there): most files wait on servers in other processes
    // (wrangler dev, workerd children, PostgreSQL, NATS), so the whole suite
    // takes about 6 minutes instead of 10 with the same results.
    maxWorkers: 2,
    projects: [
      { test: { name: "unit", include: ["test/unit/**/*.test.ts"], environment: "node" } },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
      {
        // The Node host (src/node) against real PostgreSQL, NATS JetStream and workerd children.
        test: {
          name: "node",
          include: ["test/node/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            // TEST_PYTHON_SNAPSHOTS: a bucket for test/worker/python.test.ts to hand
            // to a PythonRuntime of its own; the Worker's PYTHON_SNAPSHOTS stays unbound.
            miniflare: { bindings: { TEST_MIGRATIONS: await readD1Migrations("migrations") }, r2Buckets: ["TEST_PYTHON_SNAPSHOTS"] },
          }),
        ],
        test: { name: "worker", include: ["test/worker/**/*.test.ts"], setupFiles: ["./test/worker/apply-migrations.ts"] },
      },
    ],
  },
}));
