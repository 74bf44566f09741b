// Reading deliveries joined with their events: the shape the delivery engine sends. The
// columns and their mapping are shared with SQLite (store/sql/rows.h).
#pragma once

#include "store/postgres/connection.h"
#include "store/postgres/sql_io.h"
#include "store/sql/rows.h"
#include "store/types.h"

namespace ulak::store::postgres {

// The LISTEN/NOTIFY channel on which nodes announce deliveries nobody has claimed yet.
inline constexpr char kWorkChannel[] = "ulak_work";

using sql::kPendingSelect;

inline PendingDelivery ReadPending(const PgResult& r, int row) { return sql::ReadPending(PgRow(r, row)); }

}  // namespace ulak::store::postgres
