-- Issue 17: an accepted request's raw body is stored once. The event it became holds the
-- body's JSON in its payload; the request row keeps in body_delta only the whitespace the
-- sender put around it (src/store/incoming_body.h) and an empty body. A NULL body_delta means
-- `body` is the raw body: every row written before this migration, rejected and duplicate
-- requests, and bodies the payload cannot rebuild. Existing rows are kept as they are.
ALTER TABLE incoming_requests ADD COLUMN body_delta BLOB;
-- Retention finds old requests through incoming_by_organization (ids begin with their
-- creation time, so an id range bounds the scan); no query needs this index any more.
DROP INDEX incoming_by_time;
