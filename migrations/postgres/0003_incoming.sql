-- Incoming webhooks: sources (one per provider endpoint) and every request received.
-- The raw body and the headers come from the sender untouched: BYTEA (see 0002).

CREATE TABLE sources (
  id                    TEXT COLLATE "C" PRIMARY KEY,
  organization_id       TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
  name                  TEXT NOT NULL,
  provider              TEXT NOT NULL,
  secrets               TEXT NOT NULL,   -- JSON array; never returned by the API
  options               TEXT NOT NULL,   -- JSON object
  event_map             TEXT NOT NULL,   -- JSON array of {"match", "event"}
  default_for_provider  BOOLEAN NOT NULL,
  is_active             BOOLEAN NOT NULL,
  rejected_count        BIGINT NOT NULL DEFAULT 0,
  created_at            BIGINT NOT NULL,
  updated_at            BIGINT NOT NULL,
  deleted_at            BIGINT
);
CREATE INDEX sources_by_organization ON sources(organization_id, id) WHERE deleted_at IS NULL;
-- The seed's provider paths (/api/webhooks/stripe, /api/webhooks/apple) need one default.
CREATE UNIQUE INDEX sources_default_per_provider ON sources(provider)
  WHERE default_for_provider AND deleted_at IS NULL;

CREATE TABLE incoming_requests (
  id                 TEXT COLLATE "C" PRIMARY KEY,
  source_id          TEXT COLLATE "C" NOT NULL REFERENCES sources(id),
  organization_id    TEXT COLLATE "C" NOT NULL,
  status             TEXT NOT NULL,   -- accepted | duplicate | rejected
  provider_event_id  TEXT NOT NULL,
  event_type         TEXT NOT NULL,   -- the provider's type
  event_id           TEXT COLLATE "C",  -- the ulak event it became (accepted, duplicate)
  body               BYTEA NOT NULL,  -- raw body; empty for rejected requests
  headers            BYTEA NOT NULL,  -- JSON object of the headers that matter
  reason             TEXT NOT NULL,   -- why it was rejected
  created_at         BIGINT NOT NULL
);
CREATE INDEX incoming_by_source ON incoming_requests(source_id, id);
CREATE INDEX incoming_by_organization ON incoming_requests(organization_id, id);
