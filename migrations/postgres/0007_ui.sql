-- Web UI: delivery charts per webhook, tenant portal revocation, request inboxes.

-- GET /api/stats/deliveries?webhook_config_id=: the webhook's attempts in a time range
-- (attempts_by_time serves the organization-wide charts).
CREATE INDEX attempts_by_webhook_time ON attempts(webhook_id, created_at);

-- DELETE /api/organizations/{id}/portal bumps the generation; tokens carry the one they
-- were signed with and stop working when it is no longer current.
CREATE TABLE portal_generations (
  organization_id  TEXT COLLATE "C" PRIMARY KEY REFERENCES organizations(id),
  generation       BIGINT NOT NULL
);

CREATE TABLE inboxes (
  id               TEXT COLLATE "C" PRIMARY KEY,
  organization_id  TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
  name             TEXT NOT NULL,
  response_status  INTEGER NOT NULL,
  created_at       BIGINT NOT NULL
);
CREATE INDEX inboxes_by_organization ON inboxes(organization_id, created_at);

CREATE TABLE inbox_requests (
  id              TEXT COLLATE "C" PRIMARY KEY,
  inbox_id        TEXT COLLATE "C" NOT NULL REFERENCES inboxes(id) ON DELETE CASCADE,
  method          TEXT NOT NULL,
  path            TEXT NOT NULL,
  query           TEXT NOT NULL,
  headers         TEXT NOT NULL,   -- JSON [[name, value], ...]
  body            BYTEA NOT NULL,  -- as received: may hold NUL and invalid UTF-8
  remote_address  TEXT NOT NULL,
  received_at     BIGINT NOT NULL
);
CREATE INDEX inbox_requests_by_inbox ON inbox_requests(inbox_id, id);
