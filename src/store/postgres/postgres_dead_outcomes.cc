// PostgresStore: the writer's dead letters (outcomes the store kept rejecting).
#include "store/postgres/page.h"
#include "store/postgres/postgres_store.h"
#include "store/postgres/sql_io.h"
#include "store/sql/rows.h"
#include "store/sql/statements.h"

namespace ulak::store::postgres {
namespace {

DeadOutcome ReadDeadOutcome(const PgResult& r, int row) { return sql::ReadDeadOutcome(PgRow(r, row)); }

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
  return conn->Query(sql::kInsertDeadOutcome.postgres(), p).status();
}

Result<std::vector<DeadOutcome>> PostgresStore::ListDeadOutcomes(int limit) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  Params p;
  AddLimit(p, limit);
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(sql::kListDeadOutcomes.postgres(), p));
  return ReadAll<DeadOutcome>(r, ReadDeadOutcome);
}

}  // namespace ulak::store::postgres
