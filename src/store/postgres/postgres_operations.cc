// PostgresStore: delivery operations (replay, resend, disable), jobs and monitoring.
#include <string>

#include "store/postgres/delivery_rows.h"
#include "store/postgres/page.h"
#include "store/postgres/sql_io.h"
#include "store/sql/rows.h"
#include "store/sql/statements.h"
#include "store/postgres/postgres_store.h"

namespace ulak::store::postgres {
namespace {

Job ReadJob(const PgResult& r, int row) { return sql::ReadJob(PgRow(r, row)); }

WebhookHealth ReadHealth(const PgResult& r, int row) {
  return WebhookHealth{r.Text(row, 0), r.Text(row, 1), r.Int(row, 2), r.Int(row, 3), r.Double(row, 4)};
}

}  // namespace

Result<PendingDelivery> PostgresStore::GetDelivery(std::string_view organization_id, std::string_view id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(sql::kGetDelivery.postgres(), Params().Add(id).Add(organization_id)));
  if (r.rows() == 0) return NotFound("Delivery " + std::string(id) + " not found.");
  return ReadPending(r, 0);
}

Status PostgresStore::RequeueDelivery(std::string_view id, TimePoint now, std::string_view claimed_by,
                                      std::optional<TimePoint> lease_until) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  std::optional<int64_t> lease;
  if (lease_until) lease = ToUnixMillis(*lease_until);
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(sql::kRequeueDelivery.postgres(),
      Params().Add(id).Add(ToUnixMillis(now)).Add(claimed_by).AddOptional(lease)));
  if (r.AffectedRows() == 0) {
    ULAK_ASSIGN_OR_RETURN(PgResult e, conn->Query(sql::kDeliveryExists.postgres(), Params().Add(id)));
    if (e.rows() == 0) return NotFound("Delivery " + std::string(id) + " not found.");
    return AlreadyExists("Delivery " + std::string(id) + " is already scheduled.");
  }
  if (!claimed_by.empty()) return Status::Ok();  // its node sends it; nobody else needs waking
  return conn->Query(std::string("SELECT pg_notify('") + kWorkChannel + "', '')").status();
}

Result<std::vector<PendingDelivery>> PostgresStore::ListFailedDeliveries(std::string_view webhook_id, TimePoint since,
                                                                         std::string_view after, int limit) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  Params p;
  p.Add(webhook_id).Add(ToUnixMillis(since)).Add(after);
  AddLimit(p, limit);
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(sql::kListFailedDeliveries.postgres(), p));
  return ReadAll<PendingDelivery>(r, ReadPending);
}

Status PostgresStore::CreateDelivery(const Delivery& d) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_RETURN_IF_ERROR(InsertDelivery(*conn, d));
  if (!d.claimed_by.empty()) return Status::Ok();
  return conn->Query(std::string("SELECT pg_notify('") + kWorkChannel + "', '')").status();
}

Status PostgresStore::DisableWebhook(std::string_view id, std::string_view reason, TimePoint now) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  Transaction tx(*conn);
  ULAK_RETURN_IF_ERROR(tx.Begin());
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(sql::kDisableWebhook.postgres(),
      Params().Add(id).Add(reason).Add(ToUnixMillis(now))));
  if (r.AffectedRows() == 0) return NotFound("Webhook " + std::string(id) + " is not active.");
  ULAK_RETURN_IF_ERROR(conn->Query(sql::kCancelOpenDeliveries.postgres(),
      Params().Add(id).Add(ToUnixMillis(now))).status());
  return tx.Commit();
}

Status PostgresStore::CreateJob(const Job& j) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  Params p;
  p.Add(j.id).Add(j.organization_id).Add(j.kind).Add(j.status).Add(j.params_json).Add(j.total).Add(j.done)
      .Add(j.error).Add(ToUnixMillis(j.created_at)).Add(ToUnixMillis(j.updated_at));
  return conn->Query(sql::kInsertJob.postgres(), p)
      .status();
}

Status PostgresStore::UpdateJob(const Job& j) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  Params p;
  p.Add(j.id).Add(j.status).Add(j.total).Add(j.done).Add(j.error).Add(ToUnixMillis(j.updated_at));
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(sql::kUpdateJob.postgres(), p));
  if (r.AffectedRows() == 0) return NotFound("Job " + j.id + " not found.");
  return Status::Ok();
}

Result<Job> PostgresStore::GetJob(std::string_view organization_id, std::string_view id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(sql::kGetJob.postgres(), Params().Add(id).Add(organization_id)));
  if (r.rows() == 0) return NotFound("Job " + std::string(id) + " not found.");
  return ReadJob(r, 0);
}

Result<std::vector<WebhookHealth>> PostgresStore::GetWebhookHealth(std::string_view organization_id,
                                                                   TimePoint since) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  // Seed 001's "success rate" query, per webhook of the organization.
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(
      "SELECT w.id, w.name, COUNT(a.id), COUNT(a.id) FILTER (WHERE a.status = 'success'), "
      "COALESCE(AVG(a.response_time_ms), 0)::float8 "
      "FROM webhooks w LEFT JOIN attempts a ON a.webhook_id = w.id AND a.created_at >= $2 "
      "WHERE w.organization_id = $1 AND w.deleted_at IS NULL GROUP BY w.id, w.name ORDER BY w.id",
      Params().Add(organization_id).Add(ToUnixMillis(since))));
  return ReadAll<WebhookHealth>(r, ReadHealth);
}

}  // namespace ulak::store::postgres
