// SqliteStore: delivery operations (replay, resend, disable), jobs and monitoring.
#include <string>

#include "store/sqlite/delivery_rows.h"
#include "store/sqlite/page.h"
#include "store/sqlite/sqlite_store.h"

namespace ulak::store::sqlite {
namespace {

Job ReadJob(const Statement& st) {
  Job j;
  j.id = st.ColumnText(0);
  j.organization_id = st.ColumnText(1);
  j.kind = st.ColumnText(2);
  j.status = st.ColumnText(3);
  j.params_json = st.ColumnText(4);
  j.total = st.ColumnInt(5);
  j.done = st.ColumnInt(6);
  j.error = st.ColumnText(7);
  j.created_at = FromUnixMillis(st.ColumnInt(8));
  j.updated_at = FromUnixMillis(st.ColumnInt(9));
  return j;
}

}  // namespace

Result<PendingDelivery> SqliteStore::GetDelivery(std::string_view organization_id, std::string_view id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(std::string(kPendingSelect) +
      "WHERE d.id = ?1 AND (?2 = '' OR d.organization_id = ?2)"));
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
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(
      "UPDATE deliveries SET status = 'pending', next_attempt_at = ?2, updated_at = ?2, "
      "claimed_by = NULLIF(?3, ''), lease_until = ?4 WHERE id = ?1 AND status NOT IN ('pending', 'retrying')"));
  st->Bind(1, id).Bind(2, ToUnixMillis(now)).Bind(3, claimed_by);
  if (lease_until) {
    st->Bind(4, ToUnixMillis(*lease_until));
  } else {
    st->BindNull(4);
  }
  ULAK_RETURN_IF_ERROR(st->Run());
  if (conn->Changes() > 0) return Status::Ok();
  ULAK_ASSIGN_OR_RETURN(Statement * exists, conn->Prepare("SELECT 1 FROM deliveries WHERE id = ?1"));
  exists->Bind(1, id);
  ULAK_ASSIGN_OR_RETURN(bool row, exists->Step());
  exists->Reset();
  if (!row) return NotFound("Delivery " + std::string(id) + " not found.");
  return AlreadyExists("Delivery " + std::string(id) + " is already scheduled.");
}

Result<std::vector<PendingDelivery>> SqliteStore::ListFailedDeliveries(std::string_view webhook_id, TimePoint since,
                                                                       std::string_view after, int limit) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(std::string(kPendingSelect) +
      "WHERE d.webhook_id = ?1 AND d.status = 'failed' AND d.updated_at >= ?2 AND d.id > ?3 ORDER BY d.id LIMIT ?4"));
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
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(
      "UPDATE webhooks SET is_active = 0, disabled_reason = ?2, disabled_at = ?3, updated_at = ?3 "
      "WHERE id = ?1 AND deleted_at IS NULL AND is_active = 1"));
  st->Bind(1, id).Bind(2, reason).Bind(3, ToUnixMillis(now));
  ULAK_RETURN_IF_ERROR(st->Run());
  if (conn->Changes() == 0) return NotFound("Webhook " + std::string(id) + " is not active.");
  ULAK_RETURN_IF_ERROR(CancelOpenDeliveries(*conn, id, now));
  return tx.Commit();
}

Status SqliteStore::CreateJob(const Job& j) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(
      "INSERT INTO jobs(id, organization_id, kind, status, params, total, done, error, created_at, updated_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"));
  st->Bind(1, j.id).Bind(2, j.organization_id).Bind(3, j.kind).Bind(4, j.status).Bind(5, j.params_json)
      .Bind(6, j.total).Bind(7, j.done).Bind(8, j.error).Bind(9, ToUnixMillis(j.created_at))
      .Bind(10, ToUnixMillis(j.updated_at));
  return st->Run();
}

Status SqliteStore::UpdateJob(const Job& j) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(
      "UPDATE jobs SET status = ?2, total = ?3, done = ?4, error = ?5, updated_at = ?6 WHERE id = ?1"));
  st->Bind(1, j.id).Bind(2, j.status).Bind(3, j.total).Bind(4, j.done).Bind(5, j.error)
      .Bind(6, ToUnixMillis(j.updated_at));
  ULAK_RETURN_IF_ERROR(st->Run());
  if (conn->Changes() == 0) return NotFound("Job " + j.id + " not found.");
  return Status::Ok();
}

Result<Job> SqliteStore::GetJob(std::string_view organization_id, std::string_view id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(
      "SELECT id, organization_id, kind, status, params, total, done, error, created_at, updated_at FROM jobs "
      "WHERE id = ?1 AND (?2 = '' OR organization_id = ?2)"));
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
