// SqliteStore: what the web UI adds: delivery buckets for the charts, portal token
// generations, request inboxes.
#include <string>

#include "store/sql/rows.h"
#include "store/sql/statements.h"
#include "store/sqlite/sql_io.h"
#include "store/sqlite/sqlite_store.h"

namespace ulak::store::sqlite {

// Nearest-rank p95 per bucket with window functions (SQLite has no percentile aggregate):
// the smallest response time whose row number reaches ceil(0.95 n). PostgreSQL runs the same
// query, so both stores give the same numbers. The WHERE clause is served by
// attempts_by_time (organization) or attempts_by_webhook_time (webhook).
std::string DeliveryBucketsSql(bool by_webhook) {
  const std::string where = by_webhook
      ? "WHERE webhook_id = ?5 AND organization_id = ?1 AND created_at >= ?2 AND created_at < ?3"
      : "WHERE organization_id = ?1 AND created_at >= ?2 AND created_at < ?3";
  return "WITH a AS (SELECT (created_at / ?4) * ?4 AS b, status, response_time_ms FROM attempts " + where +
         "), r AS (SELECT b, status, response_time_ms, "
         "ROW_NUMBER() OVER (PARTITION BY b ORDER BY response_time_ms) AS rn, "
         "COUNT(*) OVER (PARTITION BY b) AS n FROM a) "
         "SELECT b, SUM(status = 'success'), SUM(status = 'failed'), SUM(status = 'retrying'), "
         "AVG(response_time_ms), MIN(CASE WHEN rn * 100 >= n * 95 THEN response_time_ms END) "
         "FROM r GROUP BY b ORDER BY b";
}

namespace {

Inbox ReadInbox(const Statement& st) { return sql::ReadInbox(SqliteRow(st)); }

}  // namespace

Result<std::vector<DeliveryBucket>> SqliteStore::GetDeliveryBuckets(const DeliveryBucketFilter& f) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  const bool by_webhook = !f.webhook_id.empty();
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(DeliveryBucketsSql(by_webhook)));
  st->Bind(1, f.organization_id).Bind(2, ToUnixMillis(f.from)).Bind(3, ToUnixMillis(f.to)).Bind(4, f.bucket_ms);
  if (by_webhook) st->Bind(5, f.webhook_id);
  std::vector<DeliveryBucket> out;
  for (;;) {
    ULAK_ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    out.push_back(sql::ReadDeliveryBucket(SqliteRow(*st)));
  }
  return out;
}

Result<int64_t> SqliteStore::GetPortalGeneration(std::string_view organization_id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st,
                        conn->Prepare(sql::kGetPortalGeneration.sqlite()));
  st->Bind(1, organization_id);
  ULAK_ASSIGN_OR_RETURN(bool row, st->Step());
  const int64_t generation = row ? st->ColumnInt(0) : 0;
  st->Reset();
  return generation;
}

Result<int64_t> SqliteStore::RevokePortalTokens(std::string_view organization_id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(
      "INSERT INTO portal_generations(organization_id, generation) VALUES (?1, 1) "
      "ON CONFLICT(organization_id) DO UPDATE SET generation = generation + 1 RETURNING generation"));
  st->Bind(1, organization_id);
  ULAK_ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) return Internal("portal generation upsert returned no row");
  const int64_t generation = st->ColumnInt(0);
  ULAK_RETURN_IF_ERROR(st->Run());  // finish the statement so its write commits
  return generation;
}

Status SqliteStore::CreateInbox(const Inbox& inbox) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(sql::kInsertInbox.sqlite()));
  st->Bind(1, inbox.id).Bind(2, inbox.organization_id).Bind(3, inbox.name)
      .Bind(4, static_cast<int64_t>(inbox.response_status)).Bind(5, ToUnixMillis(inbox.created_at));
  return st->Run();
}

Result<Inbox> SqliteStore::GetInbox(std::string_view organization_id, std::string_view id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(sql::kGetInbox.sqlite()));
  st->Bind(1, id).Bind(2, organization_id);
  ULAK_ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) return NotFound("Inbox " + std::string(id) + " not found.");
  Inbox inbox = ReadInbox(*st);
  st->Reset();
  return inbox;
}

Result<std::vector<Inbox>> SqliteStore::ListInboxes(std::string_view organization_id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(sql::kListInboxes.sqlite()));
  st->Bind(1, organization_id);
  std::vector<Inbox> out;
  for (;;) {
    ULAK_ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    out.push_back(ReadInbox(*st));
  }
  return out;
}

Status SqliteStore::UpdateInbox(const Inbox& inbox) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(sql::kUpdateInbox.sqlite()));
  st->Bind(1, inbox.id).Bind(2, inbox.organization_id).Bind(3, inbox.name)
      .Bind(4, static_cast<int64_t>(inbox.response_status));
  ULAK_RETURN_IF_ERROR(st->Run());
  if (conn->Changes() == 0) return NotFound("Inbox " + inbox.id + " not found.");
  return Status::Ok();
}

Status SqliteStore::DeleteInbox(std::string_view organization_id, std::string_view id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st,
                        conn->Prepare(sql::kDeleteInbox.sqlite()));
  st->Bind(1, id).Bind(2, organization_id);
  ULAK_RETURN_IF_ERROR(st->Run());
  if (conn->Changes() == 0) return NotFound("Inbox " + std::string(id) + " not found.");
  return Status::Ok();
}

Status SqliteStore::RecordInboxRequest(const InboxRequest& r, int keep_max, TimePoint keep_since) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  WriteTransaction tx(*conn);
  ULAK_RETURN_IF_ERROR(tx.Begin());
  {
    ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(sql::kInsertInboxRequest.sqlite()));
    st->Bind(1, r.id).Bind(2, r.inbox_id).Bind(3, r.method).Bind(4, r.path).Bind(5, r.query)
        .Bind(6, r.headers_json).Bind(7, r.body).Bind(8, r.remote_address).Bind(9, ToUnixMillis(r.received_at));
    ULAK_RETURN_IF_ERROR(st->Run());
  }
  {
    // Bounded per inbox.
    ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(sql::kTrimInboxRequests.sqlite()));
    st->Bind(1, r.inbox_id).Bind(2, ToUnixMillis(keep_since)).Bind(3, static_cast<int64_t>(keep_max));
    ULAK_RETURN_IF_ERROR(st->Run());
  }
  return tx.Commit();
}

Result<std::vector<InboxRequest>> SqliteStore::ListInboxRequests(std::string_view inbox_id, TimePoint since,
                                                                 int limit) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(sql::kListInboxRequests.sqlite()));
  st->Bind(1, inbox_id).Bind(2, ToUnixMillis(since)).Bind(3, static_cast<int64_t>(limit));
  std::vector<InboxRequest> out;
  for (;;) {
    ULAK_ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    out.push_back(sql::ReadInboxRequest(SqliteRow(*st)));
  }
  return out;
}

}  // namespace ulak::store::sqlite
