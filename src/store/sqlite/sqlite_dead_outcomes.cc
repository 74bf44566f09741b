// SqliteStore: the writer's dead letters (outcomes the store kept rejecting).
#include "store/sqlite/page.h"
#include "store/sqlite/sqlite_store.h"

namespace ulak::store::sqlite {
namespace {

DeadOutcome ReadDeadOutcome(const Statement& st) {
  DeadOutcome d;
  Attempt& a = d.outcome.attempt;
  a.id = st.ColumnText(0);
  a.delivery_id = st.ColumnText(1);
  a.organization_id = st.ColumnText(2);
  a.webhook_id = st.ColumnText(3);
  a.status = ParseDeliveryStatus(st.ColumnText(4)).value_or(DeliveryStatus::kFailed);
  a.attempt_number = static_cast<int>(st.ColumnInt(5));
  if (!st.ColumnIsNull(6)) a.response_status = static_cast<int>(st.ColumnInt(6));
  d.outcome.delivery_status = a.status;
  d.outcome.attempts = a.attempt_number;
  d.error = st.ColumnText(7);
  d.tries = static_cast<int>(st.ColumnInt(8));
  d.created_at = FromUnixMillis(st.ColumnInt(9));
  return d;
}

}  // namespace

Status SqliteStore::RecordDeadOutcome(const DeadOutcome& dead) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  const Attempt& a = dead.outcome.attempt;
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(
      "INSERT INTO dead_outcomes(attempt_id, delivery_id, organization_id, webhook_id, attempt_status, "
      "attempt_number, response_status, error, tries, created_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (attempt_id) DO NOTHING"));
  st->Bind(1, a.id).Bind(2, a.delivery_id).Bind(3, a.organization_id).Bind(4, a.webhook_id)
      .Bind(5, DeliveryStatusName(a.status)).Bind(6, int64_t{a.attempt_number});
  if (a.response_status) {
    st->Bind(7, int64_t{*a.response_status});
  } else {
    st->BindNull(7);
  }
  st->Bind(8, dead.error).Bind(9, int64_t{dead.tries}).Bind(10, ToUnixMillis(dead.created_at));
  return st->Run();
}

Result<std::vector<DeadOutcome>> SqliteStore::ListDeadOutcomes(int limit) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(
      "SELECT attempt_id, delivery_id, organization_id, webhook_id, attempt_status, attempt_number, "
      "response_status, error, tries, created_at FROM dead_outcomes ORDER BY created_at, attempt_id LIMIT ?1"));
  st->Bind(1, int64_t{limit});
  return ReadAll<DeadOutcome>(*st, ReadDeadOutcome);
}

}  // namespace ulak::store::sqlite
