import type { Env as WorkerEnv } from "../../src/cloudflare/env.js";
import type { D1Migration } from "cloudflare:test";

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {
      TEST_MIGRATIONS: D1Migration[];
      TEST_PYTHON_SNAPSHOTS: R2Bucket;
    }
  }
}
