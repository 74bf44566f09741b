-- Web UI: delivery charts per webhook, tenant portal revocation, request inboxes.

-- GET /api/stats/deliveries?webhook_config_id=: the webhook's attempts in a time range
-- (attempts_by_time serves the organization-wide charts).
CREATE INDEX attempts_by_webhook_time ON attempts(webhook_id, created_at);

-- DELETE /api/organizations/{id}/portal bumps the generation; tokens carry the one they
-- were signed with and stop working when it is no longer current.
CREATE TABLE portal_generations (
  organization_id  TEXT PRIMARY KEY REFERENCES organizations(id),
  generation       INTEGER NOT NULL
) STRICT;

CREATE TABLE inboxes (
  id               TEXT PRIMARY KEY,
  organization_id  TEXT NOT NULL REFERENCES organizations(id),
  name             TEXT NOT NULL,
  response_status  INTEGER NOT NULL,
  created_at       INTEGER NOT NULL
) STRICT;
CREATE INDEX inboxes_by_organization ON inboxes(organization_id, created_at);

CREATE TABLE inbox_requests (
  id              TEXT PRIMARY KEY,
  inbox_id        TEXT NOT NULL REFERENCES inboxes(id) ON DELETE CASCADE,
  method          TEXT NOT NULL,
  path            TEXT NOT NULL,
  query           TEXT NOT NULL,
  headers         TEXT NOT NULL,   -- JSON [[name, value], ...]
  body            TEXT NOT NULL,   -- as received (SQLite keeps the bytes as they are)
  remote_address  TEXT NOT NULL,
  received_at     INTEGER NOT NULL
) STRICT;
CREATE INDEX inbox_requests_by_inbox ON inbox_requests(inbox_id, id);
