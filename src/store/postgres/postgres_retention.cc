// PostgresStore: retention. Each batch is one short transaction of plain DELETEs (autovacuum
// reclaims the space, no VACUUM FULL, no long lock), taken under a transaction-scoped
// advisory lock so only one node prunes at a time: the others' batches return busy at once
// instead of queueing behind it or deadlocking with it. Rows are picked FOR UPDATE SKIP
// LOCKED, so a batch never waits on a row another transaction holds.
#include <string>

#include "store/postgres/postgres_store.h"
#include "store/sql/statements.h"

namespace ulak::store::postgres {
namespace {

// A finished delivery: anything not open (success, failed, cancelled, skipped). Said exactly as
// the partial index deliveries_final_by_time says it (migration 0016), so the index serves.
constexpr char kFinal[] = "NOT IN ('pending', 'retrying')";
// Ids begin with their creation time in hex (common/ids.h: "tttttttt-tttt-7…"), so the ids
// made before $2 (unix ms) sort below this prefix: incoming_by_organization (organization_id,
// id) bounds the scan, and no index on created_at is needed (migration 0013).
constexpr char kIdsBefore[] = "(lpad(to_hex($2::bigint >> 16), 8, '0') || '-' || lpad(to_hex($2::bigint & 65535), 4, '0'))";
// pg_try_advisory_xact_lock's key: any constant no other lock of ulak uses.
constexpr char kPruneLock[] = "SELECT pg_try_advisory_xact_lock(1970037099, 2)";

}  // namespace

Status PostgresStore::SetOrganizationRetention(std::string_view organization_id,
                                               std::optional<int> retention_days) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  Params p;
  p.Add(organization_id).AddOptional(retention_days ? std::optional<int64_t>(*retention_days) : std::nullopt);
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(sql::kSetOrganizationRetention.postgres(), p));
  if (r.AffectedRows() == 0) return NotFound("organization " + std::string(organization_id) + " not found");
  return Status::Ok();
}

Result<PruneResult> PostgresStore::PruneBatch(const PruneRequest& req) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  Transaction tx(*conn);
  ULAK_RETURN_IF_ERROR(tx.Begin());
  PruneResult out;
  ULAK_ASSIGN_OR_RETURN(PgResult lock, conn->Query(kPruneLock));
  if (lock.rows() == 0 || !lock.Bool(0, 0)) {
    out.busy = true;
    return out;  // rolled back: nothing was done
  }
  // Deleted rows need no synchronous commit: a batch lost to a crash is deleted again later.
  ULAK_RETURN_IF_ERROR(conn->Exec("SET LOCAL synchronous_commit = off"));
  const int64_t before = ToUnixMillis(req.before);
  switch (req.kind) {
    case PruneKind::kDeliveries: {
      ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(std::string(
          "WITH picked AS (SELECT id FROM deliveries WHERE organization_id = $1 AND status ") + kFinal +
          "  AND updated_at < $2 ORDER BY updated_at LIMIT $3 FOR UPDATE SKIP LOCKED), "
          "gone_attempts AS (DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM picked) RETURNING 1), "
          "gone AS (DELETE FROM deliveries WHERE id IN (SELECT id FROM picked) RETURNING 1) "
          "SELECT (SELECT COUNT(*) FROM picked), (SELECT COUNT(*) FROM gone), (SELECT COUNT(*) FROM gone_attempts)",
          Params().Add(req.organization_id).Add(before).Add(int64_t{req.limit})));
      out.examined = r.Int(0, 0);
      out.rows = r.Int(0, 1);
      out.attempts = r.Int(0, 2);
      break;
    }
    case PruneKind::kEvents: {
      // Events an open or recent delivery still needs are kept and stepped over: the cursor
      // (created_at, id) moves past them, so they are not read again in this run.
      Params p;
      p.Add(req.organization_id).Add(before).Add(req.after_event.empty() ? int64_t{-1}
                                                                           : ToUnixMillis(req.after_event_created_at))
          .Add(req.after_event).Add(int64_t{req.limit});
      ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(
          "WITH looked AS (SELECT e.id, e.created_at, "
          "  NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id) AS free FROM events e "
          "  WHERE e.organization_id = $1 AND e.created_at < $2 AND (e.created_at, e.id) > ($3, $4::text) "
          "  ORDER BY e.created_at, e.id LIMIT $5), "
          "gone AS (DELETE FROM events WHERE id IN (SELECT id FROM looked WHERE free) "
          "  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = events.id) RETURNING 1), "
          "last AS (SELECT id, created_at FROM looked ORDER BY created_at DESC, id DESC LIMIT 1) "
          "SELECT (SELECT COUNT(*) FROM looked), (SELECT COUNT(*) FROM gone), "
          "COALESCE((SELECT id FROM last), ''), COALESCE((SELECT created_at FROM last), 0)",
          p));
      out.examined = r.Int(0, 0);
      out.rows = r.Int(0, 1);
      out.last_event = r.Text(0, 2);
      out.last_event_created_at = FromUnixMillis(r.Int(0, 3));
      break;
    }
    case PruneKind::kIncoming: {
      ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(
          "DELETE FROM incoming_requests WHERE id IN (SELECT id FROM incoming_requests "
          "WHERE organization_id = $1 AND id < " + std::string(kIdsBefore) + " AND created_at < $2 "
          "ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)",
          Params().Add(req.organization_id).Add(before).Add(int64_t{req.limit})));
      out.rows = out.examined = r.AffectedRows();
      break;
    }
  }
  ULAK_RETURN_IF_ERROR(tx.Commit());
  return out;
}

Result<PruneCounts> PostgresStore::CountPrunable(std::string_view organization_id, TimePoint before) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(std::string(
      "SELECT (SELECT COUNT(*) FROM deliveries WHERE organization_id = $1 AND status ") + kFinal +
      "  AND updated_at < $2), "
      "(SELECT COUNT(*) FROM deliveries d JOIN attempts a ON a.delivery_id = d.id WHERE d.organization_id = $1 "
      "  AND d.status " + kFinal + " AND d.updated_at < $2), "
      "(SELECT COUNT(*) FROM events e WHERE e.organization_id = $1 AND e.created_at < $2 AND NOT EXISTS "
      "  (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND NOT (d.status " + kFinal +
      "  AND d.updated_at < $2))), "
      "(SELECT COUNT(*) FROM incoming_requests WHERE organization_id = $1 AND id < " + kIdsBefore +
      " AND created_at < $2)",
      Params().Add(organization_id).Add(ToUnixMillis(before))));
  return PruneCounts{r.Int(0, 0), r.Int(0, 1), r.Int(0, 2), r.Int(0, 3)};
}

Result<int64_t> PostgresStore::ReclaimSpace(int /*pages*/) { return int64_t{0}; }

Status PostgresStore::ExecForTest(std::string_view sql) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  return conn->Exec(sql);
}

}  // namespace ulak::store::postgres
