// SqliteStore: retention. Small batches, oldest first by index, each in its own short write
// transaction taken through write_gate_, so the group commit waits at most one batch.
#include <string>
#include <vector>

#include "store/sql/statements.h"
#include "store/sqlite/sqlite_store.h"

namespace ulak::store::sqlite {
namespace {

// A finished delivery: anything not open (success, failed, cancelled, skipped). Said exactly as
// the partial index deliveries_final_by_time says it (migration 0016), so the index serves.
constexpr char kFinal[] = "NOT IN ('pending', 'retrying')";
// Ids begin with their creation time in hex (common/ids.h: "tttttttt-tttt-7…"), so the ids
// made before ?2 (unix ms) sort below this prefix: incoming_by_organization (organization_id,
// id) bounds the scan, and no index on created_at is needed (migration 0013).
constexpr char kIdsBefore[] = "printf('%08x-%04x', ?2 >> 16, ?2 & 65535)";

Result<int64_t> CountOne(Connection& conn, const std::string& sql, std::string_view organization_id,
                         TimePoint before) {
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn.Prepare(sql));
  st->Bind(1, organization_id).Bind(2, ToUnixMillis(before));
  ULAK_ASSIGN_OR_RETURN(bool row, st->Step());
  const int64_t n = row ? st->ColumnInt(0) : 0;
  st->Reset();
  return n;
}

}  // namespace

Status SqliteStore::EnableIncrementalVacuum(Connection& conn) {
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn.Prepare("PRAGMA auto_vacuum"));
  ULAK_ASSIGN_OR_RETURN(bool row, st->Step());
  const int64_t mode = row ? st->ColumnInt(0) : 0;
  st->Reset();
  if (mode != 0) return Status::Ok();  // already incremental (or full)
  // A file from before migration 0008: the mode only changes with a VACUUM, which rewrites
  // the file once (outside any transaction; the server is not serving yet).
  Status s = conn.Exec("PRAGMA auto_vacuum=INCREMENTAL; VACUUM;");
  if (!s.ok()) return Internal("cannot switch the database to auto_vacuum=INCREMENTAL: " + s.message());
  return Status::Ok();
}

Status SqliteStore::SetOrganizationRetention(std::string_view organization_id, std::optional<int> retention_days) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(sql::kSetOrganizationRetention.sqlite()));
  st->Bind(1, organization_id);
  if (retention_days) {
    st->Bind(2, int64_t{*retention_days});
  } else {
    st->BindNull(2);
  }
  ULAK_RETURN_IF_ERROR(st->Run());
  if (conn->Changes() == 0) return NotFound("organization " + std::string(organization_id) + " not found");
  return Status::Ok();
}

Result<PruneResult> SqliteStore::PruneBatch(const PruneRequest& req) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  // Deleted rows need no power-cut durability: a batch lost to one is deleted again later.
  RelaxedSync relaxed(*conn);
  std::unique_lock gate(write_gate_);
  WriteTransaction tx(*conn);
  ULAK_RETURN_IF_ERROR(tx.Begin());
  PruneResult out;
  const int64_t before = ToUnixMillis(req.before);
  switch (req.kind) {
    case PruneKind::kDeliveries: {
      ULAK_ASSIGN_OR_RETURN(Statement * pick, conn->Prepare(std::string(
          "SELECT id FROM deliveries WHERE organization_id = ?1 AND status ") + kFinal +
          " AND updated_at < ?2 ORDER BY updated_at LIMIT ?3"));
      pick->Bind(1, req.organization_id).Bind(2, before).Bind(3, int64_t{req.limit});
      std::vector<std::string> ids;
      for (;;) {
        ULAK_ASSIGN_OR_RETURN(bool row, pick->Step());
        if (!row) break;
        ids.push_back(pick->ColumnText(0));
      }
      out.examined = static_cast<int64_t>(ids.size());
      for (const std::string& id : ids) {
        ULAK_ASSIGN_OR_RETURN(Statement * attempts, conn->Prepare("DELETE FROM attempts WHERE delivery_id = ?1"));
        attempts->Bind(1, id);
        ULAK_RETURN_IF_ERROR(attempts->Run());
        out.attempts += conn->Changes();
        ULAK_ASSIGN_OR_RETURN(Statement * del, conn->Prepare(std::string(
            "DELETE FROM deliveries WHERE id = ?1 AND status ") + kFinal));
        del->Bind(1, id);
        ULAK_RETURN_IF_ERROR(del->Run());
        out.rows += conn->Changes();
      }
      break;
    }
    case PruneKind::kEvents: {
      // Events an open or recent delivery still needs are kept and stepped over: the cursor
      // (created_at, id) moves past them, so they are not read again in this run.
      ULAK_ASSIGN_OR_RETURN(Statement * pick, conn->Prepare(
          "SELECT e.id, e.created_at, NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id) "
          "FROM events e WHERE e.organization_id = ?1 AND e.created_at < ?2 AND (e.created_at, e.id) > (?3, ?4) "
          "ORDER BY e.created_at, e.id LIMIT ?5"));
      pick->Bind(1, req.organization_id).Bind(2, before).Bind(3, ToUnixMillis(req.after_event_created_at))
          .Bind(4, req.after_event).Bind(5, int64_t{req.limit});
      if (req.after_event.empty()) pick->Bind(3, int64_t{-1});
      std::vector<std::string> free_ids;
      for (;;) {
        ULAK_ASSIGN_OR_RETURN(bool row, pick->Step());
        if (!row) break;
        ++out.examined;
        out.last_event = pick->ColumnText(0);
        out.last_event_created_at = FromUnixMillis(pick->ColumnInt(1));
        if (pick->ColumnInt(2) != 0) free_ids.push_back(out.last_event);
      }
      for (const std::string& id : free_ids) {
        ULAK_ASSIGN_OR_RETURN(Statement * del, conn->Prepare(
            "DELETE FROM events WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = ?1)"));
        del->Bind(1, id);
        ULAK_RETURN_IF_ERROR(del->Run());
        out.rows += conn->Changes();
      }
      break;
    }
    case PruneKind::kIncoming: {
      ULAK_ASSIGN_OR_RETURN(Statement * del, conn->Prepare(
          "DELETE FROM incoming_requests WHERE id IN (SELECT id FROM incoming_requests "
          "WHERE organization_id = ?1 AND id < " + std::string(kIdsBefore) + " AND created_at < ?2 "
          "ORDER BY id LIMIT ?3)"));
      del->Bind(1, req.organization_id).Bind(2, before).Bind(3, int64_t{req.limit});
      ULAK_RETURN_IF_ERROR(del->Run());
      out.rows = out.examined = conn->Changes();
      break;
    }
  }
  ULAK_RETURN_IF_ERROR(tx.Commit());
  gate.unlock();
  // The batch's pages are copied back to the file here, on the cleaner's thread, outside the
  // gate: left to SQLite's auto-checkpoint, the next publish to commit would copy them and
  // wait for the fsync. PASSIVE never blocks writers or readers.
  (void)conn->Exec("PRAGMA wal_checkpoint(PASSIVE)");
  return out;
}

Result<PruneCounts> SqliteStore::CountPrunable(std::string_view organization_id, TimePoint before) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  // One read transaction: the four counts describe one snapshot.
  ULAK_RETURN_IF_ERROR(conn->Exec("BEGIN"));
  PruneCounts out;
  auto count = [&](const std::string& sql, int64_t& into) -> Status {
    ULAK_ASSIGN_OR_RETURN(into, CountOne(*conn, sql, organization_id, before));
    return Status::Ok();
  };
  Status s = count(std::string("SELECT COUNT(*) FROM deliveries WHERE organization_id = ?1 AND status ") + kFinal +
                       " AND updated_at < ?2",
                   out.deliveries);
  if (s.ok()) {
    s = count(std::string("SELECT COUNT(*) FROM deliveries d JOIN attempts a ON a.delivery_id = d.id "
                          "WHERE d.organization_id = ?1 AND d.status ") + kFinal + " AND d.updated_at < ?2",
              out.attempts);
  }
  if (s.ok()) {
    s = count(std::string("SELECT COUNT(*) FROM events e WHERE e.organization_id = ?1 AND e.created_at < ?2 "
                          "AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id "
                          "AND NOT (d.status ") + kFinal + " AND d.updated_at < ?2))",
              out.events);
  }
  if (s.ok()) {
    s = count("SELECT COUNT(*) FROM incoming_requests WHERE organization_id = ?1 AND id < " + std::string(kIdsBefore) +
                  " AND created_at < ?2",
              out.incoming);
  }
  (void)conn->Exec("COMMIT");
  if (!s.ok()) return s;
  return out;
}

Result<int64_t> SqliteStore::ReclaimSpace(int pages) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  {
    RelaxedSync relaxed(*conn);
    std::lock_guard gate(write_gate_);
    ULAK_RETURN_IF_ERROR(conn->Exec("PRAGMA incremental_vacuum(" + std::to_string(pages < 1 ? 1 : pages) + ")"));
  }
  (void)conn->Exec("PRAGMA wal_checkpoint(PASSIVE)");  // as after a batch: not the next publish's job
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare("PRAGMA freelist_count"));
  ULAK_ASSIGN_OR_RETURN(bool row, st->Step());
  const int64_t left = row ? st->ColumnInt(0) : 0;
  st->Reset();
  return left;
}

Status SqliteStore::ExecForTest(std::string_view sql) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  return conn->Exec(sql);
}

}  // namespace ulak::store::sqlite
