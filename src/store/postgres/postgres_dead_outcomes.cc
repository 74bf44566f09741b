// PostgresStore: the writer's dead letters (outcomes the store kept rejecting).
#include "store/postgres/page.h"
#include "store/postgres/postgres_store.h"

namespace ulak::store::postgres {
namespace {

DeadOutcome ReadDeadOutcome(const PgResult& r, int row) {
  DeadOutcome d;
  Attempt& a = d.outcome.attempt;
  a.id = r.Text(row, 0);
  a.delivery_id = r.Text(row, 1);
  a.organization_id = r.Text(row, 2);
  a.webhook_id = r.Text(row, 3);
  a.status = ParseDeliveryStatus(r.Text(row, 4)).value_or(DeliveryStatus::kFailed);
  a.attempt_number = static_cast<int>(r.Int(row, 5));
  if (!r.IsNull(row, 6)) a.response_status = static_cast<int>(r.Int(row, 6));
  d.outcome.delivery_status = a.status;
  d.outcome.attempts = a.attempt_number;
  d.error = r.Text(row, 7);
  d.tries = static_cast<int>(r.Int(row, 8));
  d.created_at = FromUnixMillis(r.Int(row, 9));
  return d;
}

}  // namespace

Status PostgresStore::RecordDeadOutcome(const DeadOutcome& dead) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  const Attempt& a = dead.outcome.attempt;
  Params p;
  p.Add(a.id).Add(a.delivery_id).Add(a.organization_id).Add(a.webhook_id).Add(DeliveryStatusName(a.status))
      .Add(int64_t{a.attempt_number});
  if (a.response_status) {
    p.Add(int64_t{*a.response_status});
  } else {
    p.AddNull();
  }
  p.Add(dead.error).Add(int64_t{dead.tries}).Add(ToUnixMillis(dead.created_at));
  return conn->Query(
      "INSERT INTO dead_outcomes(attempt_id, delivery_id, organization_id, webhook_id, attempt_status, "
      "attempt_number, response_status, error, tries, created_at) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (attempt_id) DO NOTHING", p).status();
}

Result<std::vector<DeadOutcome>> PostgresStore::ListDeadOutcomes(int limit) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  Params p;
  AddLimit(p, limit);
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(
      "SELECT attempt_id, delivery_id, organization_id, webhook_id, attempt_status, attempt_number, "
      "response_status, error, tries, created_at FROM dead_outcomes ORDER BY created_at, attempt_id LIMIT $1", p));
  return ReadAll<DeadOutcome>(r, ReadDeadOutcome);
}

}  // namespace ulak::store::postgres
