-- A namespace's own limits (wskadmin limits set), overriding the system
-- defaults: limits is a JSON object with invocationsPerMinute,
-- concurrentInvocations and firesPerMinute, each optional.
CREATE TABLE namespace_limits (
  namespace TEXT PRIMARY KEY,
  limits TEXT NOT NULL
);
