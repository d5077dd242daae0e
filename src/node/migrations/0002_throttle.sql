-- Per-namespace rate-limit counters of the Node host: attempts per
-- namespace, kind ('invoke' | 'fire') and wall-clock minute. Controllers
-- take tokens from a row in batches (src/node/postgres-throttle.ts); a namespace's
-- rows of past minutes are deleted when its next minute begins.
CREATE TABLE throttle_counts (
  namespace TEXT NOT NULL,
  kind TEXT NOT NULL,
  minute BIGINT NOT NULL,
  issued INTEGER NOT NULL,
  denied INTEGER NOT NULL,
  PRIMARY KEY (namespace, kind, minute)
);
