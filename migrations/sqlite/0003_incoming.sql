-- Incoming webhooks: sources (one per provider endpoint) and every request received.

CREATE TABLE sources (
  id                    TEXT PRIMARY KEY,
  organization_id       TEXT NOT NULL REFERENCES organizations(id),
  name                  TEXT NOT NULL,
  provider              TEXT NOT NULL,
  secrets               TEXT NOT NULL,   -- JSON array; never returned by the API
  options               TEXT NOT NULL,   -- JSON object
  event_map             TEXT NOT NULL,   -- JSON array of {"match", "event"}
  default_for_provider  INTEGER NOT NULL,
  is_active             INTEGER NOT NULL,
  rejected_count        INTEGER NOT NULL DEFAULT 0,
  created_at            INTEGER NOT NULL,
  updated_at            INTEGER NOT NULL,
  deleted_at            INTEGER
) STRICT;
CREATE INDEX sources_by_organization ON sources(organization_id, id) WHERE deleted_at IS NULL;
-- The seed's provider paths (/api/webhooks/stripe, /api/webhooks/apple) need one default.
CREATE UNIQUE INDEX sources_default_per_provider ON sources(provider)
  WHERE default_for_provider = 1 AND deleted_at IS NULL;

CREATE TABLE incoming_requests (
  id                 TEXT PRIMARY KEY,
  source_id          TEXT NOT NULL REFERENCES sources(id),
  organization_id    TEXT NOT NULL,
  status             TEXT NOT NULL,   -- accepted | duplicate | rejected
  provider_event_id  TEXT NOT NULL,
  event_type         TEXT NOT NULL,   -- the provider's type
  event_id           TEXT,            -- the ulak event it became (accepted, duplicate)
  body               TEXT NOT NULL,   -- raw body; empty for rejected requests
  headers            TEXT NOT NULL,   -- JSON object of the headers that matter
  reason             TEXT NOT NULL,   -- why it was rejected
  created_at         INTEGER NOT NULL
) STRICT;
CREATE INDEX incoming_by_source ON incoming_requests(source_id, id);
CREATE INDEX incoming_by_organization ON incoming_requests(organization_id, id);
