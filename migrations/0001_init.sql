-- edgewhisk storage, written once for SQLite (D1) and PostgreSQL.
-- Portable subset: TEXT/BIGINT/INTEGER columns, JSON kept as TEXT,
-- ON CONFLICT for idempotent writes, no engine-specific functions.

-- One row per API key. The key itself is never stored: key_hash is the
-- hex SHA-256 of "uuid:key".
CREATE TABLE subjects (
  uuid TEXT PRIMARY KEY,
  key_hash TEXT NOT NULL,
  namespace TEXT NOT NULL,
  subject TEXT NOT NULL
);
CREATE INDEX subjects_by_namespace ON subjects (namespace);

-- Actions, packages, triggers and rules. They share one name space per
-- entity path, as in OpenWhisk: an action and a trigger cannot both be
-- called "guest/x". package is '' for entities outside a package.
-- doc is the entity's OpenWhisk JSON without action code; code lives in
-- blobs under code_digest (D1 rows cap at 2 MB, actions may reach 48 MB).
CREATE TABLE entities (
  namespace TEXT NOT NULL,
  package TEXT NOT NULL,
  name TEXT NOT NULL,
  collection TEXT NOT NULL,
  version TEXT NOT NULL,
  -- Bumped on every write; writers compare it to detect concurrent changes.
  rev INTEGER NOT NULL,
  publish INTEGER NOT NULL,
  updated BIGINT NOT NULL,
  doc TEXT NOT NULL,
  code_digest TEXT,
  PRIMARY KEY (namespace, package, name)
);
CREATE INDEX entities_by_collection ON entities (namespace, collection, updated);
CREATE INDEX entities_by_code ON entities (code_digest);

-- Large texts split into chunks: action code ("code:<sha256>") and
-- activation records too big for one row ("activation:<id>").
CREATE TABLE blobs (
  id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  chunk TEXT NOT NULL,
  PRIMARY KEY (id, seq)
);

-- Activation records. doc holds the record's JSON, or is NULL when the
-- record is chunked into blobs. package is '' for actions outside a package
-- and lets the list filter by "pkg/name".
CREATE TABLE activations (
  activation_id TEXT PRIMARY KEY,
  namespace TEXT NOT NULL,
  name TEXT NOT NULL,
  package TEXT NOT NULL,
  start_ms BIGINT NOT NULL,
  doc TEXT
);
CREATE INDEX activations_by_start ON activations (namespace, start_ms);
CREATE INDEX activations_by_name ON activations (namespace, name, start_ms);
