-- Shaping a webhook's deliveries (src/shape/): a CRM template with its parameters and
-- credentials, a filter, a field selection and a Lua transformation. Empty: not used.
-- template_auth holds credentials (OAuth tokens, client secrets): sealed by EncryptingStore.

ALTER TABLE webhooks ADD COLUMN shape_template TEXT NOT NULL DEFAULT '';       -- {"name", "params"}
ALTER TABLE webhooks ADD COLUMN shape_template_auth TEXT NOT NULL DEFAULT '';  -- sealed JSON
ALTER TABLE webhooks ADD COLUMN shape_filter TEXT NOT NULL DEFAULT '';         -- JSON condition
ALTER TABLE webhooks ADD COLUMN shape_fields TEXT NOT NULL DEFAULT '';         -- JSON array of paths
ALTER TABLE webhooks ADD COLUMN shape_transform TEXT NOT NULL DEFAULT '';      -- Lua source
