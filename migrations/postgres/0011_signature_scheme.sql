-- Asymmetric webhook signatures (Standard Webhooks "v1a", Ed25519). signature_scheme is
-- 'hmac' (the v1 HMAC signature, as before) or 'ed25519'. signing_key and
-- previous_signing_key hold "whsk_..." private keys: sealed by EncryptingStore. Empty: none.

ALTER TABLE webhooks
  ADD COLUMN signature_scheme TEXT NOT NULL DEFAULT 'hmac',
  ADD COLUMN signing_key TEXT NOT NULL DEFAULT '',           -- sealed
  ADD COLUMN previous_signing_key TEXT NOT NULL DEFAULT '';  -- sealed
