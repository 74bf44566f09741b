-- Attempt outcomes the store rejected on every try (issue 15, defect 9): the writer parks
-- each here with its last error and moves on, instead of retrying it forever. The attempt's
-- own row was never written; its delivery keeps the state it had before that try.
CREATE TABLE dead_outcomes (
  attempt_id       TEXT PRIMARY KEY,
  delivery_id      TEXT NOT NULL,
  organization_id  TEXT NOT NULL,
  webhook_id       TEXT NOT NULL,
  attempt_status   TEXT NOT NULL,   -- success | retrying | failed
  attempt_number   INTEGER NOT NULL,
  response_status  INTEGER,
  error            TEXT NOT NULL,   -- the store's last error for it
  tries            INTEGER NOT NULL,
  created_at       INTEGER NOT NULL -- when it was parked
) STRICT;
