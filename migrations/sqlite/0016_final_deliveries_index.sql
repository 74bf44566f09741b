-- Issue 17: the partial index of finished deliveries (retention's, 0008) said
-- `status IN ('success', 'failed', 'cancelled')`. SQLite evaluates that condition for every
-- delivery row it inserts or updates (one insert per publish, one update per outcome), and
-- codes an IN list of three constants as a temporary b-tree, built and freed each time; a
-- list of two is plain comparisons. "Finished" is also "not open", which is two values, and
-- the old list missed `skipped` (a transform returned nil): skipped deliveries, their attempts
-- and their events were never pruned. Rebuilt on both dialects so the two schemas stay alike;
-- the retention queries state the same condition (sqlite_retention.cc, postgres_retention.cc).
DROP INDEX deliveries_final_by_time;
CREATE INDEX deliveries_final_by_time ON deliveries(organization_id, updated_at)
  WHERE status NOT IN ('pending', 'retrying');
