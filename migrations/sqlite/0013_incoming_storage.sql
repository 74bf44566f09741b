-- Issue 17: an accepted request's raw body is stored once, and events are de-duplicated by
-- a compact key. The event an accepted request became holds the body's JSON in its payload;
-- the request row keeps in body_delta only the whitespace the sender put around it
-- (src/store/incoming_body.h) and an empty body. A NULL body_delta means
-- `body` is the raw body: every row written before this migration, rejected and duplicate
-- requests, and bodies the payload cannot rebuild. Existing rows are kept as they are.
ALTER TABLE incoming_requests ADD COLUMN body_delta BLOB;
-- Retention finds old requests through incoming_by_organization (ids begin with their
-- creation time, so an id range bounds the scan); no query needs this index any more.
DROP INDEX incoming_by_time;
-- De-duplication by a compact key (src/store/idempotency_key.h): 16 bytes of SHA-256 over
-- (organization_id, event_id) instead of the two texts. SQLite has no SHA-256, so
-- SqliteStore::Migrate fills the key of the events written before this migration.
ALTER TABLE events ADD COLUMN idempotency_key BLOB;
DROP INDEX events_idempotency;
CREATE UNIQUE INDEX events_by_idempotency_key ON events(idempotency_key) WHERE idempotency_key IS NOT NULL;
-- The events still without their key: empty once Migrate has filled them, and never written
-- again (new events have a key or no event_id), so every later start finds none at no cost.
CREATE INDEX events_without_idempotency_key ON events(id) WHERE event_id IS NOT NULL AND idempotency_key IS NULL;
