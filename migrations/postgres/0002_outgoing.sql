-- Outgoing webhooks: endpoints, published events, one delivery per (event, webhook), and
-- one attempt row per try (seed 001's webhook_logs). Times are unix milliseconds.
-- Bytes that come from outside untouched (the event body, a receiver's response body) are
-- BYTEA: TEXT would refuse NUL and invalid UTF-8, which SQLite stores as they are.

CREATE TABLE webhooks (
  id                  TEXT COLLATE "C" PRIMARY KEY,
  organization_id     TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
  name                TEXT NOT NULL,
  url                 TEXT NOT NULL,
  secret_key          TEXT NOT NULL,
  events              TEXT NOT NULL,   -- JSON array of types and wildcards
  custom_headers      TEXT NOT NULL,   -- JSON object
  retry_policy        TEXT NOT NULL,   -- JSON object
  is_active           BOOLEAN NOT NULL,
  retry_enabled       BOOLEAN NOT NULL,
  max_retries         INTEGER NOT NULL,
  timeout_seconds     INTEGER NOT NULL,
  max_in_flight       INTEGER NOT NULL,
  last_triggered_at   BIGINT,
  created_at          BIGINT NOT NULL,
  updated_at          BIGINT NOT NULL,
  deleted_at          BIGINT           -- deleted webhooks keep their attempt logs
);
CREATE INDEX webhooks_by_organization ON webhooks(organization_id, id) WHERE deleted_at IS NULL;

CREATE TABLE events (
  id               TEXT COLLATE "C" PRIMARY KEY,
  organization_id  TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
  event_type       TEXT NOT NULL,
  event_id         TEXT,             -- the producer's id / Idempotency-Key
  payload          BYTEA NOT NULL,   -- the exact body every delivery sends
  deliveries       INTEGER NOT NULL,
  created_at       BIGINT NOT NULL
);
-- Idempotent publish across every node: the second INSERT of a key does nothing and reads
-- the first one's row (ON CONFLICT DO NOTHING names this index as its arbiter).
CREATE UNIQUE INDEX events_idempotency ON events(organization_id, event_id) WHERE event_id IS NOT NULL;

CREATE TABLE deliveries (
  id               TEXT COLLATE "C" PRIMARY KEY, -- the webhook-id header, stable across retries
  event_id         TEXT COLLATE "C" NOT NULL REFERENCES events(id),
  webhook_id       TEXT COLLATE "C" NOT NULL REFERENCES webhooks(id),
  organization_id  TEXT COLLATE "C" NOT NULL,
  status           TEXT NOT NULL,    -- pending | retrying | success | failed | cancelled
  attempts         INTEGER NOT NULL,
  next_attempt_at  BIGINT NOT NULL,
  created_at       BIGINT NOT NULL,
  updated_at       BIGINT NOT NULL,
  -- Reserved for several nodes sharing the database: the node holding the delivery and
  -- until when (unix ms). NULL while unclaimed; not used by a single node.
  claimed_by       TEXT,
  lease_until      BIGINT
);
CREATE INDEX deliveries_open ON deliveries(id) WHERE status IN ('pending', 'retrying');
CREATE INDEX deliveries_by_webhook ON deliveries(webhook_id, status);

CREATE TABLE attempts (
  id                 TEXT COLLATE "C" PRIMARY KEY,
  delivery_id        TEXT COLLATE "C" NOT NULL REFERENCES deliveries(id),
  organization_id    TEXT COLLATE "C" NOT NULL,
  webhook_id         TEXT COLLATE "C" NOT NULL,
  event_type         TEXT NOT NULL,
  event_ref          TEXT NOT NULL,
  request_url        TEXT NOT NULL,
  request_signature  TEXT NOT NULL,
  response_status    INTEGER,
  response_body      BYTEA NOT NULL,  -- as the receiver sent it
  response_time_ms   BIGINT NOT NULL,
  status             TEXT NOT NULL,   -- success | retrying | failed
  attempt_number     INTEGER NOT NULL,
  error_message      TEXT NOT NULL,
  delivered_at       BIGINT,
  next_retry_at      BIGINT,
  created_at         BIGINT NOT NULL
);
CREATE INDEX attempts_by_organization ON attempts(organization_id, id);
CREATE INDEX attempts_by_webhook ON attempts(webhook_id, id);
CREATE INDEX attempts_by_delivery ON attempts(delivery_id, id);
