// PostgresStore: what the web UI adds: delivery buckets for the charts, portal token
// generations, request inboxes. Same queries as sqlite_ui.cc, so both stores agree.
#include <string>

#include "store/postgres/page.h"
#include "store/postgres/postgres_store.h"
#include "store/postgres/sql_io.h"
#include "store/sql/rows.h"
#include "store/sql/statements.h"

namespace ulak::store::postgres {
namespace {

// Nearest-rank p95 per bucket (the smallest response time whose row number reaches
// ceil(0.95 n)), written with window functions so SQLite can run the same query.
std::string BucketSql(bool by_webhook) {
  const std::string where = by_webhook
      ? "WHERE webhook_id = $5 AND organization_id = $1 AND created_at >= $2 AND created_at < $3"
      : "WHERE organization_id = $1 AND created_at >= $2 AND created_at < $3";
  return "WITH a AS (SELECT (created_at / $4::bigint) * $4::bigint AS b, status, response_time_ms FROM attempts " +
         where +
         "), r AS (SELECT b, status, response_time_ms, "
         "ROW_NUMBER() OVER (PARTITION BY b ORDER BY response_time_ms) AS rn, "
         "COUNT(*) OVER (PARTITION BY b) AS n FROM a) "
         "SELECT b, COUNT(*) FILTER (WHERE status = 'success'), COUNT(*) FILTER (WHERE status = 'failed'), "
         "COUNT(*) FILTER (WHERE status = 'retrying'), AVG(response_time_ms)::float8, "
         "MIN(CASE WHEN rn * 100 >= n * 95 THEN response_time_ms END) "
         "FROM r GROUP BY b ORDER BY b";
}

DeliveryBucket ReadBucket(const PgResult& r, int row) { return sql::ReadDeliveryBucket(PgRow(r, row)); }
Inbox ReadInbox(const PgResult& r, int row) { return sql::ReadInbox(PgRow(r, row)); }
InboxRequest ReadInboxRequest(const PgResult& r, int row) { return sql::ReadInboxRequest(PgRow(r, row)); }

}  // namespace

Result<std::vector<DeliveryBucket>> PostgresStore::GetDeliveryBuckets(const DeliveryBucketFilter& f) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  const bool by_webhook = !f.webhook_id.empty();
  Params p;
  p.Add(f.organization_id).Add(ToUnixMillis(f.from)).Add(ToUnixMillis(f.to)).Add(f.bucket_ms);
  if (by_webhook) p.Add(f.webhook_id);
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(BucketSql(by_webhook), p));
  return ReadAll<DeliveryBucket>(r, ReadBucket);
}

Result<int64_t> PostgresStore::GetPortalGeneration(std::string_view organization_id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(sql::kGetPortalGeneration.postgres(),
                                                Params().Add(organization_id)));
  return r.rows() == 0 ? int64_t{0} : r.Int(0, 0);
}

Result<int64_t> PostgresStore::RevokePortalTokens(std::string_view organization_id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(
      "INSERT INTO portal_generations(organization_id, generation) VALUES ($1, 1) "
      "ON CONFLICT (organization_id) DO UPDATE SET generation = portal_generations.generation + 1 "
      "RETURNING generation", Params().Add(organization_id)));
  if (r.rows() == 0) return Internal("portal generation upsert returned no row");
  return r.Int(0, 0);
}

Status PostgresStore::CreateInbox(const Inbox& inbox) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  Params p;
  p.Add(inbox.id).Add(inbox.organization_id).Add(inbox.name).Add(static_cast<int64_t>(inbox.response_status))
      .Add(ToUnixMillis(inbox.created_at));
  return conn->Query(sql::kInsertInbox.postgres(), p).status();
}

Result<Inbox> PostgresStore::GetInbox(std::string_view organization_id, std::string_view id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(sql::kGetInbox.postgres(),
                                                Params().Add(id).Add(organization_id)));
  if (r.rows() == 0) return NotFound("Inbox " + std::string(id) + " not found.");
  return ReadInbox(r, 0);
}

Result<std::vector<Inbox>> PostgresStore::ListInboxes(std::string_view organization_id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(sql::kListInboxes.postgres(),
                                                Params().Add(organization_id)));
  return ReadAll<Inbox>(r, ReadInbox);
}

Status PostgresStore::UpdateInbox(const Inbox& inbox) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  Params p;
  p.Add(inbox.id).Add(inbox.organization_id).Add(inbox.name).Add(static_cast<int64_t>(inbox.response_status));
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(sql::kUpdateInbox.postgres(), p));
  if (r.AffectedRows() == 0) return NotFound("Inbox " + inbox.id + " not found.");
  return Status::Ok();
}

Status PostgresStore::DeleteInbox(std::string_view organization_id, std::string_view id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(sql::kDeleteInbox.postgres(),
                                                Params().Add(id).Add(organization_id)));
  if (r.AffectedRows() == 0) return NotFound("Inbox " + std::string(id) + " not found.");
  return Status::Ok();
}

Status PostgresStore::RecordInboxRequest(const InboxRequest& r, int keep_max, TimePoint keep_since) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  Transaction tx(*conn);
  ULAK_RETURN_IF_ERROR(tx.Begin());
  Params p;
  p.Add(r.id).Add(r.inbox_id).Add(r.method).Add(r.path).Add(r.query).Add(r.headers_json).AddBytes(r.body)
      .Add(r.remote_address).Add(ToUnixMillis(r.received_at));
  ULAK_RETURN_IF_ERROR(conn->Query(sql::kInsertInboxRequest.postgres(), p).status());
  ULAK_RETURN_IF_ERROR(conn->Query(sql::kTrimInboxRequests.postgres(),
      Params().Add(r.inbox_id).Add(ToUnixMillis(keep_since)).Add(static_cast<int64_t>(keep_max))).status());
  return tx.Commit();
}

Result<std::vector<InboxRequest>> PostgresStore::ListInboxRequests(std::string_view inbox_id, TimePoint since,
                                                                   int limit) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(sql::kListInboxRequests.postgres(),
      Params().Add(inbox_id).Add(ToUnixMillis(since)).Add(static_cast<int64_t>(limit))));
  return ReadAll<InboxRequest>(r, ReadInboxRequest);
}

}  // namespace ulak::store::postgres
