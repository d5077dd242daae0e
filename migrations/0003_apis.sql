-- The API gateway's APIs (wsk api): one Swagger 2.0 document per tenant (the
-- uuid of the auth key that made it) and base path (key: without leading or
-- trailing '/'), as OpenWhisk's gateway keeps them. rev guards updates.
CREATE TABLE apis (
  tenant TEXT NOT NULL,
  api_key TEXT NOT NULL,
  doc TEXT NOT NULL,
  rev INTEGER NOT NULL,
  created_ms BIGINT NOT NULL,
  PRIMARY KEY (tenant, api_key)
);
