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
  // so two nodes never get the same delivery and never block each other.
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(
      "WITH due AS (SELECT id FROM deliveries WHERE status IN ('pending', 'retrying') AND next_attempt_at <= $2 "
      "  AND (lease_until IS NULL OR lease_until < $2) ORDER BY next_attempt_at, id LIMIT $4 "
      "  FOR UPDATE SKIP LOCKED), "
      "claimed AS (UPDATE deliveries SET claimed_by = $1, lease_until = $3 FROM due WHERE deliveries.id = due.id "
      "  RETURNING deliveries.*) "
      "SELECT d.id, d.event_id, d.webhook_id, d.organization_id, d.status, d.attempts, d.next_attempt_at, "
      "d.created_at, e.event_type, COALESCE(e.event_id, e.id), e.payload, e.created_at "
      "FROM claimed d JOIN events e ON e.id = d.event_id ORDER BY d.next_attempt_at, d.id",
      Params().Add(node_id).Add(ToUnixMillis(now)).Add(ToUnixMillis(lease_until)).Add(int64_t{limit})));
  std::vector<PendingDelivery> out;
  out.reserve(static_cast<size_t>(r.rows()));
  for (int row = 0; row < r.rows(); ++row) {
    PendingDelivery p = ReadPending(r, row);
    p.delivery.claimed_by = std::string(node_id);
    p.delivery.lease_until = lease_until;
    out.push_back(std::move(p));
  }
  return out;
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
