-- Shared work: nodes claim due deliveries with FOR UPDATE SKIP LOCKED for a lease; a node
-- that dies has its claims taken over once they expire. (claimed_by and lease_until exist
-- since 0002.)

CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE status IN ('pending', 'retrying');
CREATE INDEX deliveries_by_claim ON deliveries(claimed_by) WHERE status IN ('pending', 'retrying');
