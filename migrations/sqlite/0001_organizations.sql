-- Organizations (tenants), their API keys, and server settings such as the admin key hash.
-- Times are unix milliseconds (INTEGER).

CREATE TABLE settings (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

CREATE TABLE organizations (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE api_keys (
  id              TEXT PRIMARY KEY,
  organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  key_hash        TEXT NOT NULL UNIQUE,
  prefix          TEXT NOT NULL,
  created_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX api_keys_by_organization ON api_keys(organization_id, id);
