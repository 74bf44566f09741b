-- Issue 17, memory bounded whatever the backlog: the delivery engine keeps at most a bound
-- of a webhook's open deliveries in memory and pages the rest in by due time
-- (Store::ListDueDeliveriesForWebhook). This index serves that query: one webhook's open
-- deliveries in (next_attempt_at, id) order.
CREATE INDEX deliveries_open_by_webhook_due ON deliveries(webhook_id, next_attempt_at, id)
  WHERE status IN ('pending', 'retrying');
