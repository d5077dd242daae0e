-- Per-namespace concurrent activations of the Node host: one row per
-- activation holding a place of its namespace's concurrentInvocations,
-- from admission until it ends (deleted) or expires_at (epoch ms) passes.
-- Controllers and invokers acquire under a per-namespace advisory lock
-- (src/node/postgres-throttle.ts), so replicas never admit past the limit; expired
-- rows of a namespace are dropped by its next acquire.
CREATE TABLE concurrency_leases (
  namespace TEXT NOT NULL,
  activation_id TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (namespace, activation_id)
);
