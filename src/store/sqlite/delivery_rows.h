// Reading deliveries joined with their events: the shape the delivery engine sends. The
// columns and their mapping are shared with PostgreSQL (store/sql/rows.h).
#pragma once

#include "store/sql/rows.h"
#include "store/sqlite/connection.h"
#include "store/sqlite/sql_io.h"
#include "store/types.h"

namespace ulak::store::sqlite {

using sql::kPendingSelect;

inline PendingDelivery ReadPending(const Statement& st) { return sql::ReadPending(SqliteRow(st)); }

}  // namespace ulak::store::sqlite
