-- Tables only the Kubernetes host has (applied after migrations/ by
-- src/node/migrate.ts; Cloudflare keeps the same state in Durable Objects).

-- One row per trigger made with /whisk.system/alarms. state is the alarm's
-- JSON (trigger, owner, schedule, active, attempts); next_fire is when it is
-- due (epoch ms), NULL when paused or over. The controller holding the
-- scheduler's advisory lock fires the rows that come due.
CREATE TABLE node_alarms (
  trigger_key TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  next_fire BIGINT
);
CREATE INDEX node_alarms_due ON node_alarms (next_fire);
