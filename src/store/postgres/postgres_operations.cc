// PostgresStore: delivery operations (replay, resend, disable), jobs and monitoring.
#include <string>

#include "store/postgres/delivery_rows.h"
#include "store/postgres/page.h"
#include "store/postgres/postgres_store.h"

namespace ulak::store::postgres {
namespace {

Job ReadJob(const PgResult& r, int row) {
  Job j;
  j.id = r.Text(row, 0);
  j.organization_id = r.Text(row, 1);
  j.kind = r.Text(row, 2);
  j.status = r.Text(row, 3);
  j.params_json = r.Text(row, 4);
  j.total = r.Int(row, 5);
  j.done = r.Int(row, 6);
  j.error = r.Text(row, 7);
  j.created_at = FromUnixMillis(r.Int(row, 8));
  j.updated_at = FromUnixMillis(r.Int(row, 9));
  return j;
}

WebhookHealth ReadHealth(const PgResult& r, int row) {
  return WebhookHealth{r.Text(row, 0), r.Text(row, 1), r.Int(row, 2), r.Int(row, 3), r.Double(row, 4)};
}

}  // namespace

Result<PendingDelivery> PostgresStore::GetDelivery(std::string_view organization_id, std::string_view id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(std::string(kPendingSelect) +
      "WHERE d.id = $1 AND ($2 = '' OR d.organization_id = $2)", Params().Add(id).Add(organization_id)));
  if (r.rows() == 0) return NotFound("Delivery " + std::string(id) + " not found.");
  return ReadPending(r, 0);
}

Status PostgresStore::RequeueDelivery(std::string_view id, TimePoint now, std::string_view claimed_by,
                                      std::optional<TimePoint> lease_until) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  std::optional<int64_t> lease;
  if (lease_until) lease = ToUnixMillis(*lease_until);
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(
      "UPDATE deliveries SET status = 'pending', next_attempt_at = $2, updated_at = $2, "
      "claimed_by = NULLIF($3, ''), lease_until = $4 WHERE id = $1 AND status NOT IN ('pending', 'retrying')",
      Params().Add(id).Add(ToUnixMillis(now)).Add(claimed_by).AddOptional(lease)));
  if (r.AffectedRows() == 0) {
    ULAK_ASSIGN_OR_RETURN(PgResult e, conn->Query("SELECT 1 FROM deliveries WHERE id = $1", Params().Add(id)));
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
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(std::string(kPendingSelect) +
      "WHERE d.webhook_id = $1 AND d.status = 'failed' AND d.updated_at >= $2 AND d.id > $3 ORDER BY d.id LIMIT $4",
      p));
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
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(
      "UPDATE webhooks SET is_active = FALSE, disabled_reason = $2, disabled_at = $3, updated_at = $3 "
      "WHERE id = $1 AND deleted_at IS NULL AND is_active",
      Params().Add(id).Add(reason).Add(ToUnixMillis(now))));
  if (r.AffectedRows() == 0) return NotFound("Webhook " + std::string(id) + " is not active.");
  ULAK_RETURN_IF_ERROR(conn->Query(
      "UPDATE deliveries SET status = 'cancelled', updated_at = $2 "
      "WHERE webhook_id = $1 AND status IN ('pending', 'retrying')",
      Params().Add(id).Add(ToUnixMillis(now))).status());
  return tx.Commit();
}

Status PostgresStore::CreateJob(const Job& j) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  Params p;
  p.Add(j.id).Add(j.organization_id).Add(j.kind).Add(j.status).Add(j.params_json).Add(j.total).Add(j.done)
      .Add(j.error).Add(ToUnixMillis(j.created_at)).Add(ToUnixMillis(j.updated_at));
  return conn->Query("INSERT INTO jobs(id, organization_id, kind, status, params, total, done, error, created_at, "
                     "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)", p)
      .status();
}

Status PostgresStore::UpdateJob(const Job& j) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  Params p;
  p.Add(j.id).Add(j.status).Add(j.total).Add(j.done).Add(j.error).Add(ToUnixMillis(j.updated_at));
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(
      "UPDATE jobs SET status = $2, total = $3, done = $4, error = $5, updated_at = $6 WHERE id = $1", p));
  if (r.AffectedRows() == 0) return NotFound("Job " + j.id + " not found.");
  return Status::Ok();
}

Result<Job> PostgresStore::GetJob(std::string_view organization_id, std::string_view id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(
      "SELECT id, organization_id, kind, status, params, total, done, error, created_at, updated_at FROM jobs "
      "WHERE id = $1 AND ($2 = '' OR organization_id = $2)", Params().Add(id).Add(organization_id)));
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
