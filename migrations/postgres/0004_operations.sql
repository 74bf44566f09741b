-- Delivery operations: secret rotation with grace, rate limits, auto-disable, jobs.

ALTER TABLE webhooks
  ADD COLUMN previous_secret_key TEXT,                -- still signs until it expires
  ADD COLUMN previous_secret_expires_at BIGINT,
  ADD COLUMN rate_limit_per_s INTEGER,                -- NULL: unlimited
  ADD COLUMN disable_on_gone BOOLEAN NOT NULL DEFAULT FALSE,
  ADD COLUMN disabled_reason TEXT,
  ADD COLUMN disabled_at BIGINT,
  ADD COLUMN consecutive_failures INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN first_failure_at BIGINT;                 -- start of the failure streak

CREATE TABLE jobs (
  id               TEXT COLLATE "C" PRIMARY KEY,
  organization_id  TEXT COLLATE "C" NOT NULL,
  kind             TEXT NOT NULL,    -- recover
  status           TEXT NOT NULL,    -- running | completed | failed
  params           TEXT NOT NULL,    -- JSON
  total            BIGINT NOT NULL,
  done             BIGINT NOT NULL,
  error            TEXT NOT NULL,
  created_at       BIGINT NOT NULL,
  updated_at       BIGINT NOT NULL
);

CREATE INDEX deliveries_failed_by_webhook ON deliveries(webhook_id, updated_at) WHERE status = 'failed';
CREATE INDEX attempts_by_time ON attempts(organization_id, created_at);
