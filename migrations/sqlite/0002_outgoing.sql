-- Outgoing webhooks: endpoints, published events, one delivery per (event, webhook), and
-- one attempt row per try (seed 001's webhook_logs). Times are unix milliseconds.

CREATE TABLE webhooks (
  id                  TEXT PRIMARY KEY,
  organization_id     TEXT NOT NULL REFERENCES organizations(id),
  name                TEXT NOT NULL,
  url                 TEXT NOT NULL,
  secret_key          TEXT NOT NULL,
  events              TEXT NOT NULL,   -- JSON array of types and wildcards
  custom_headers      TEXT NOT NULL,   -- JSON object
  retry_policy        TEXT NOT NULL,   -- JSON object
  is_active           INTEGER NOT NULL,
  retry_enabled       INTEGER NOT NULL,
  max_retries         INTEGER NOT NULL,
  timeout_seconds     INTEGER NOT NULL,
  max_in_flight       INTEGER NOT NULL,
  last_triggered_at   INTEGER,
  created_at          INTEGER NOT NULL,
  updated_at          INTEGER NOT NULL,
  deleted_at          INTEGER          -- deleted webhooks keep their attempt logs
) STRICT;
CREATE INDEX webhooks_by_organization ON webhooks(organization_id, id) WHERE deleted_at IS NULL;

CREATE TABLE events (
  id               TEXT PRIMARY KEY,
  organization_id  TEXT NOT NULL REFERENCES organizations(id),
  event_type       TEXT NOT NULL,
  event_id         TEXT,             -- the producer's id / Idempotency-Key
  payload          TEXT NOT NULL,    -- the exact body every delivery sends
  deliveries       INTEGER NOT NULL,
  created_at       INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX events_idempotency ON events(organization_id, event_id) WHERE event_id IS NOT NULL;

CREATE TABLE deliveries (
  id               TEXT PRIMARY KEY, -- the webhook-id header, stable across retries
  event_id         TEXT NOT NULL REFERENCES events(id),
  webhook_id       TEXT NOT NULL REFERENCES webhooks(id),
  organization_id  TEXT NOT NULL,
  status           TEXT NOT NULL,    -- pending | retrying | success | failed | cancelled
  attempts         INTEGER NOT NULL,
  next_attempt_at  INTEGER NOT NULL,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL
) STRICT;
CREATE INDEX deliveries_open ON deliveries(id) WHERE status IN ('pending', 'retrying');
CREATE INDEX deliveries_by_webhook ON deliveries(webhook_id, status);

CREATE TABLE attempts (
  id                 TEXT PRIMARY KEY,
  delivery_id        TEXT NOT NULL REFERENCES deliveries(id),
  organization_id    TEXT NOT NULL,
  webhook_id         TEXT NOT NULL,
  event_type         TEXT NOT NULL,
  event_ref          TEXT NOT NULL,
  request_url        TEXT NOT NULL,
  request_signature  TEXT NOT NULL,
  response_status    INTEGER,
  response_body      TEXT NOT NULL,
  response_time_ms   INTEGER NOT NULL,
  status             TEXT NOT NULL,  -- success | retrying | failed
  attempt_number     INTEGER NOT NULL,
  error_message      TEXT NOT NULL,
  delivered_at       INTEGER,
  next_retry_at      INTEGER,
  created_at         INTEGER NOT NULL
) STRICT;
CREATE INDEX attempts_by_organization ON attempts(organization_id, id);
CREATE INDEX attempts_by_webhook ON attempts(webhook_id, id);
CREATE INDEX attempts_by_delivery ON attempts(delivery_id, id);
