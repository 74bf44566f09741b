// SqliteStore: delivery operations (replay, resend, disable), jobs and monitoring.
#include <string>

#include "store/sqlite/delivery_rows.h"
#include "store/sql/rows.h"
#include "store/sql/statements.h"
#include "store/sqlite/page.h"
#include "store/sqlite/sql_io.h"
#include "store/sqlite/sqlite_store.h"

namespace ulak::store::sqlite {
namespace {

Job ReadJob(const Statement& st) { return sql::ReadJob(SqliteRow(st)); }

}  // namespace

Result<PendingDelivery> SqliteStore::GetDelivery(std::string_view organization_id, std::string_view id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(sql::kGetDelivery.sqlite()));
  st->Bind(1, id).Bind(2, organization_id);
  ULAK_ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) return NotFound("Delivery " + std::string(id) + " not found.");
  PendingDelivery p = ReadPending(*st);
  st->Reset();
  return p;
}

Status SqliteStore::RequeueDelivery(std::string_view id, TimePoint now, std::string_view claimed_by,
                                    std::optional<TimePoint> lease_until) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(sql::kRequeueDelivery.sqlite()));
  st->Bind(1, id).Bind(2, ToUnixMillis(now)).Bind(3, claimed_by);
  if (lease_until) {
    st->Bind(4, ToUnixMillis(*lease_until));
  } else {
    st->BindNull(4);
  }
  ULAK_RETURN_IF_ERROR(st->Run());
  if (conn->Changes() > 0) return Status::Ok();
  ULAK_ASSIGN_OR_RETURN(Statement * exists, conn->Prepare(sql::kDeliveryExists.sqlite()));
  exists->Bind(1, id);
  ULAK_ASSIGN_OR_RETURN(bool row, exists->Step());
  exists->Reset();
  if (!row) return NotFound("Delivery " + std::string(id) + " not found.");
  return AlreadyExists("Delivery " + std::string(id) + " is already scheduled.");
}

Result<std::vector<PendingDelivery>> SqliteStore::ListFailedDeliveries(std::string_view webhook_id, TimePoint since,
                                                                       std::string_view after, int limit) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(sql::kListFailedDeliveries.sqlite()));
  st->Bind(1, webhook_id).Bind(2, ToUnixMillis(since)).Bind(3, after).Bind(4, int64_t{limit});
  return ReadAll<PendingDelivery>(*st, ReadPending);
}

Status SqliteStore::CreateDelivery(const Delivery& d) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  return InsertDelivery(*conn, d);
}

Status SqliteStore::DisableWebhook(std::string_view id, std::string_view reason, TimePoint now) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  WriteTransaction tx(*conn);
  ULAK_RETURN_IF_ERROR(tx.Begin());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(sql::kDisableWebhook.sqlite()));
  st->Bind(1, id).Bind(2, reason).Bind(3, ToUnixMillis(now));
  ULAK_RETURN_IF_ERROR(st->Run());
  if (conn->Changes() == 0) return NotFound("Webhook " + std::string(id) + " is not active.");
  ULAK_RETURN_IF_ERROR(CancelOpenDeliveries(*conn, id, now));
  return tx.Commit();
}

Status SqliteStore::CreateJob(const Job& j) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(sql::kInsertJob.sqlite()));
  st->Bind(1, j.id).Bind(2, j.organization_id).Bind(3, j.kind).Bind(4, j.status).Bind(5, j.params_json)
      .Bind(6, j.total).Bind(7, j.done).Bind(8, j.error).Bind(9, ToUnixMillis(j.created_at))
      .Bind(10, ToUnixMillis(j.updated_at));
  return st->Run();
}

Status SqliteStore::UpdateJob(const Job& j) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(sql::kUpdateJob.sqlite()));
  st->Bind(1, j.id).Bind(2, j.status).Bind(3, j.total).Bind(4, j.done).Bind(5, j.error)
      .Bind(6, ToUnixMillis(j.updated_at));
  ULAK_RETURN_IF_ERROR(st->Run());
  if (conn->Changes() == 0) return NotFound("Job " + j.id + " not found.");
  return Status::Ok();
}

Result<Job> SqliteStore::GetJob(std::string_view organization_id, std::string_view id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(sql::kGetJob.sqlite()));
  st->Bind(1, id).Bind(2, organization_id);
  ULAK_ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) return NotFound("Job " + std::string(id) + " not found.");
  Job j = ReadJob(*st);
  st->Reset();
  return j;
}

Result<std::vector<WebhookHealth>> SqliteStore::GetWebhookHealth(std::string_view organization_id, TimePoint since) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  // Seed 001's "success rate" query, per webhook of the organization.
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(
      "SELECT w.id, w.name, COUNT(a.id), COALESCE(SUM(a.status = 'success'), 0), COALESCE(AVG(a.response_time_ms), 0) "
      "FROM webhooks w LEFT JOIN attempts a ON a.webhook_id = w.id AND a.created_at >= ?2 "
      "WHERE w.organization_id = ?1 AND w.deleted_at IS NULL GROUP BY w.id, w.name ORDER BY w.id"));
  st->Bind(1, organization_id).Bind(2, ToUnixMillis(since));
  std::vector<WebhookHealth> out;
  for (;;) {
    ULAK_ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    out.push_back(WebhookHealth{st->ColumnText(0), st->ColumnText(1), st->ColumnInt(2), st->ColumnInt(3),
                                st->ColumnDouble(4)});
  }
  return out;
}

}  // namespace ulak::store::sqlite
