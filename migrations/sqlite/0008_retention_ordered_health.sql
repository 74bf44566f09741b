-- Operations (issue 16): retention, ordered delivery, endpoint health.
-- retention_days per organization (NULL: the server's setting, 0: keep forever).
ALTER TABLE organizations ADD COLUMN retention_days INTEGER;

-- Ordered (FIFO) delivery: one delivery of the webhook at a time, in publish order.
ALTER TABLE webhooks ADD COLUMN ordered INTEGER NOT NULL DEFAULT 0;
-- Endpoint health, kept by the delivery engine with each batch of attempts: the circuit
-- breaker's state is stored, so a restart or another node does not reset it.
ALTER TABLE webhooks ADD COLUMN last_success_at INTEGER;
ALTER TABLE webhooks ADD COLUMN last_failure_at INTEGER;
ALTER TABLE webhooks ADD COLUMN breaker_streak INTEGER NOT NULL DEFAULT 0;       -- tries with no response
ALTER TABLE webhooks ADD COLUMN breaker_cooldown_ms INTEGER NOT NULL DEFAULT 0;  -- nonzero: open
ALTER TABLE webhooks ADD COLUMN paused_until INTEGER;                           -- no sends before it

-- Retention deletes the oldest rows first, by index, in small batches.
CREATE INDEX deliveries_final_by_time ON deliveries(organization_id, updated_at)
  WHERE status IN ('success', 'failed', 'cancelled');
CREATE INDEX deliveries_by_event ON deliveries(event_id);
CREATE INDEX events_by_time ON events(organization_id, created_at, id);
CREATE INDEX incoming_by_time ON incoming_requests(organization_id, created_at);
-- Existing files are switched to auto_vacuum=INCREMENTAL (a VACUUM, outside any
-- transaction) by SqliteStore::Migrate after this migration; new files start with it.
