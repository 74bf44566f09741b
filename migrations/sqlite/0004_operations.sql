-- Delivery operations: secret rotation with grace, rate limits, auto-disable, jobs.

ALTER TABLE webhooks ADD COLUMN previous_secret_key TEXT;          -- still signs until it expires
ALTER TABLE webhooks ADD COLUMN previous_secret_expires_at INTEGER;
ALTER TABLE webhooks ADD COLUMN rate_limit_per_s INTEGER;         -- NULL: unlimited
ALTER TABLE webhooks ADD COLUMN disable_on_gone INTEGER NOT NULL DEFAULT 0;
ALTER TABLE webhooks ADD COLUMN disabled_reason TEXT;
ALTER TABLE webhooks ADD COLUMN disabled_at INTEGER;
ALTER TABLE webhooks ADD COLUMN consecutive_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE webhooks ADD COLUMN first_failure_at INTEGER;          -- start of the failure streak

CREATE TABLE jobs (
  id               TEXT PRIMARY KEY,
  organization_id  TEXT NOT NULL,
  kind             TEXT NOT NULL,    -- recover
  status           TEXT NOT NULL,    -- running | completed | failed
  params           TEXT NOT NULL,    -- JSON
  total            INTEGER NOT NULL,
  done             INTEGER NOT NULL,
  error            TEXT NOT NULL,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL
) STRICT;

CREATE INDEX deliveries_failed_by_webhook ON deliveries(webhook_id, updated_at) WHERE status = 'failed';
CREATE INDEX attempts_by_time ON attempts(organization_id, created_at);
