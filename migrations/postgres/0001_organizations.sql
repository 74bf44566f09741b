-- Organizations (tenants), their API keys, and server settings such as the admin key hash.
-- Times are unix milliseconds (BIGINT), as in the SQLite schema. Ids are compared and
-- ordered as cursors, so they use the "C" collation: byte order whatever the database's
-- locale, which is the order UUIDv7 ids are created in.

CREATE TABLE settings (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE organizations (
  id         TEXT COLLATE "C" PRIMARY KEY,
  name       TEXT NOT NULL,
  created_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
  id              TEXT COLLATE "C" PRIMARY KEY,
  organization_id TEXT COLLATE "C" NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  key_hash        TEXT NOT NULL UNIQUE,
  prefix          TEXT NOT NULL,
  created_at      BIGINT NOT NULL
);

CREATE INDEX api_keys_by_organization ON api_keys(organization_id, id);
