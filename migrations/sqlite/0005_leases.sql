-- Shared work: a node claims due deliveries for a lease (used with several nodes on one
-- database; a single SQLite node never needs it, but both stores keep one schema shape).

ALTER TABLE deliveries ADD COLUMN claimed_by TEXT;
ALTER TABLE deliveries ADD COLUMN lease_until INTEGER;
CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE status IN ('pending', 'retrying');
