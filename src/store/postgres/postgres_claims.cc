// PostgresStore: shared work. Nodes claim due deliveries with FOR UPDATE SKIP LOCKED under
// a lease, renew the leases they hold, and hear of unclaimed work through LISTEN/NOTIFY.
#include <string>
#include <thread>

#include "store/postgres/delivery_rows.h"
#include "store/postgres/postgres_store.h"

namespace ulak::store::postgres {

Result<std::vector<PendingDelivery>> PostgresStore::ClaimDueDeliveries(std::string_view node_id, TimePoint now,
                                                                       TimePoint lease_until, int limit) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  // SKIP LOCKED: rows another node is claiming right now are passed over, not waited for,
  // so two nodes never get the same delivery and never block each other. Ordered webhooks'
  // deliveries are left to ClaimOrdered; the same statement names the ordered webhooks with
  // open, unleased deliveries (rows whose last column, line, is set; looked for only when
  // the claim left room), so a round is one statement when there are none.
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(
      "WITH due AS (SELECT id FROM deliveries WHERE status IN ('pending', 'retrying') AND next_attempt_at <= $2 "
      "  AND (lease_until IS NULL OR lease_until < $2) "
      "  AND NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.id = deliveries.webhook_id AND w.ordered) "
      "  ORDER BY next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED), "
      "claimed AS (UPDATE deliveries SET claimed_by = $1, lease_until = $3 FROM due WHERE deliveries.id = due.id "
      "  RETURNING deliveries.*), "
      "lines AS (SELECT DISTINCT d.webhook_id FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id AND w.ordered "
      "  WHERE d.status IN ('pending', 'retrying') AND (d.lease_until IS NULL OR d.lease_until < $2) "
      "  AND (SELECT count(*) FROM claimed) < $4 LIMIT 100) "
      "SELECT d.id, d.event_id, d.webhook_id, d.organization_id, d.status, d.attempts, d.next_attempt_at, "
      "d.created_at, e.event_type, COALESCE(e.event_id, e.id), e.payload, e.created_at, NULL::text AS line "
      "FROM claimed d JOIN events e ON e.id = d.event_id "
      "UNION ALL SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, webhook_id FROM lines "
      "ORDER BY line NULLS FIRST, next_attempt_at, id",
      Params().Add(node_id).Add(ToUnixMillis(now)).Add(ToUnixMillis(lease_until)).Add(int64_t{limit})));
  std::vector<PendingDelivery> out;
  std::vector<std::string> lines;
  out.reserve(static_cast<size_t>(r.rows()));
  for (int row = 0; row < r.rows(); ++row) {
    if (!r.IsNull(row, 12)) {
      lines.push_back(r.Text(row, 12));
      continue;
    }
    PendingDelivery p = ReadPending(r, row);
    p.delivery.claimed_by = std::string(node_id);
    p.delivery.lease_until = lease_until;
    out.push_back(std::move(p));
  }
  if (static_cast<int>(out.size()) < limit && !lines.empty()) {
    ULAK_RETURN_IF_ERROR(ClaimOrdered(*conn, node_id, now, lease_until, limit - static_cast<int>(out.size()),
                                      lines, out));
  }
  return out;
}

// Ordered (FIFO) webhooks: one node holds a webhook's whole line at a time, so its
// deliveries go out one by one in publish order even with several nodes. A node claims a
// webhook's open deliveries (oldest first, due or not: the head may be waiting for its
// retry) only while no other node holds a live lease on any of them; a transaction-scoped
// advisory lock per webhook makes that check-then-claim atomic between nodes.
Status PostgresStore::ClaimOrdered(Connection& conn, std::string_view node_id, TimePoint now, TimePoint lease_until,
                                   int limit, const std::vector<std::string>& lines,
                                   std::vector<PendingDelivery>& out) {
  for (size_t i = 0; i < lines.size() && limit > 0; ++i) {
    const std::string& webhook_id = lines[i];
    Transaction tx(conn);
    ULAK_RETURN_IF_ERROR(tx.Begin());
    ULAK_ASSIGN_OR_RETURN(PgResult lock, conn.Query("SELECT pg_try_advisory_xact_lock(1970037100, hashtext($1))",
                                                    Params().Add(webhook_id)));
    if (lock.rows() == 0 || !lock.Bool(0, 0)) continue;  // another node is claiming it now
    ULAK_ASSIGN_OR_RETURN(PgResult held, conn.Query(
        "SELECT 1 FROM deliveries WHERE webhook_id = $1 AND status IN ('pending', 'retrying') "
        "AND claimed_by IS NOT NULL AND claimed_by <> $2 AND lease_until >= $3 LIMIT 1",
        Params().Add(webhook_id).Add(node_id).Add(ToUnixMillis(now))));
    if (held.rows() > 0) continue;  // another node holds the line
    ULAK_ASSIGN_OR_RETURN(PgResult r, conn.Query(
        "WITH line AS (SELECT id FROM deliveries WHERE webhook_id = $1 AND status IN ('pending', 'retrying') "
        "  AND (claimed_by IS NULL OR lease_until IS NULL OR lease_until < $3) ORDER BY id LIMIT $5 FOR UPDATE), "
        "claimed AS (UPDATE deliveries SET claimed_by = $2, lease_until = $4 FROM line WHERE deliveries.id = line.id "
        "  RETURNING deliveries.*) "
        "SELECT d.id, d.event_id, d.webhook_id, d.organization_id, d.status, d.attempts, d.next_attempt_at, "
        "d.created_at, e.event_type, COALESCE(e.event_id, e.id), e.payload, e.created_at "
        "FROM claimed d JOIN events e ON e.id = d.event_id ORDER BY d.id",
        Params().Add(webhook_id).Add(node_id).Add(ToUnixMillis(now)).Add(ToUnixMillis(lease_until))
            .Add(int64_t{limit})));
    ULAK_RETURN_IF_ERROR(tx.Commit());
    for (int row = 0; row < r.rows(); ++row) {
      PendingDelivery p = ReadPending(r, row);
      p.delivery.claimed_by = std::string(node_id);
      p.delivery.lease_until = lease_until;
      out.push_back(std::move(p));
      --limit;
    }
  }
  return Status::Ok();
}

Result<int64_t> PostgresStore::RenewLeases(std::string_view node_id, TimePoint lease_until) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(
      "UPDATE deliveries SET lease_until = GREATEST(COALESCE(lease_until, 0), $2) "
      "WHERE claimed_by = $1 AND status IN ('pending', 'retrying')",
      Params().Add(node_id).Add(ToUnixMillis(lease_until))));
  return r.AffectedRows();
}

bool PostgresStore::WaitForWork(std::chrono::milliseconds timeout) {
  if (listener_ == nullptr || listener_->broken()) {
    listener_.reset();
    Result<std::unique_ptr<Connection>> conn = Connection::Open(conninfo_);
    if (!conn.ok() || !(*conn)->Exec(std::string("LISTEN ") + kWorkChannel).ok()) {
      std::this_thread::sleep_for(timeout);  // the database is away: poll again later
      return false;
    }
    listener_ = std::move(conn).value();
  }
  return listener_->WaitForNotification(timeout);
}

}  // namespace ulak::store::postgres
