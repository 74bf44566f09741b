-- Operations (issue 16): retention, ordered delivery, endpoint health.
-- retention_days per organization (NULL: the server's setting, 0: keep forever).
ALTER TABLE organizations ADD COLUMN retention_days INTEGER;

-- Ordered (FIFO) delivery: one delivery of the webhook at a time, in publish order.
-- Endpoint health, kept by the delivery engine with each batch of attempts: the circuit
-- breaker's state is stored, so a restart or another node does not reset it.
ALTER TABLE webhooks
  ADD COLUMN ordered BOOLEAN NOT NULL DEFAULT FALSE,
  ADD COLUMN last_success_at BIGINT,
  ADD COLUMN last_failure_at BIGINT,
  ADD COLUMN breaker_streak INTEGER NOT NULL DEFAULT 0,       -- tries with no response
  ADD COLUMN breaker_cooldown_ms BIGINT NOT NULL DEFAULT 0,   -- nonzero: open
  ADD COLUMN paused_until BIGINT;                             -- no sends before it

-- Retention deletes the oldest rows first, by index, in small batches (plain DELETEs that
-- autovacuum reclaims; no long transaction).
CREATE INDEX deliveries_final_by_time ON deliveries(organization_id, updated_at)
  WHERE status IN ('success', 'failed', 'cancelled');
CREATE INDEX deliveries_by_event ON deliveries(event_id);
CREATE INDEX events_by_time ON events(organization_id, created_at, id);
CREATE INDEX incoming_by_time ON incoming_requests(organization_id, created_at);
