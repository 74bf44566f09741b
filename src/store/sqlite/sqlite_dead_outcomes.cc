// SqliteStore: the writer's dead letters (outcomes the store kept rejecting).
#include "store/sql/rows.h"
#include "store/sql/statements.h"
#include "store/sqlite/page.h"
#include "store/sqlite/sql_io.h"
#include "store/sqlite/sqlite_store.h"

namespace ulak::store::sqlite {
namespace {

DeadOutcome ReadDeadOutcome(const Statement& st) { return sql::ReadDeadOutcome(SqliteRow(st)); }

}  // namespace

Status SqliteStore::RecordDeadOutcome(const DeadOutcome& dead) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  const Attempt& a = dead.outcome.attempt;
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(sql::kInsertDeadOutcome.sqlite()));
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
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(sql::kListDeadOutcomes.sqlite()));
  st->Bind(1, int64_t{limit});
  return ReadAll<DeadOutcome>(*st, ReadDeadOutcome);
}

}  // namespace ulak::store::sqlite
