// Issue 17, migration 0016: the finished deliveries' partial index (retention's) is searched,
// and keeping it costs the hot path's row writes no temporary b-tree.
#include <string>

#include "store/sqlite_plan.h"

namespace ulak::store::sqlite {
namespace {

// Retention's pick of finished deliveries searches the partial index made for it, and no
// delivery row written on the hot path (an INSERT per publish, an UPDATE per outcome) makes
// SQLite build a temporary b-tree to evaluate that index's condition (migration 0016: an IN
// list of three constants is coded as one, NOT IN of two as two comparisons).
TEST(SqliteRetentionQueryPlan, FinishedDeliveriesSearchTheirIndexAndRowWritesNeedNoTemporaryTree) {
  ulak::testing::TempDir dir;
  sqlite3* db = OpenMigratedForPlans(dir);
  ASSERT_NE(db, nullptr);
  const std::string pick = QueryPlan(db,
      "SELECT id FROM deliveries WHERE organization_id = ?1 AND status NOT IN ('pending', 'retrying') "
      "AND updated_at < ?2 ORDER BY updated_at LIMIT ?3");
  EXPECT_NE(pick.find("USING INDEX deliveries_final_by_time (organization_id=? AND updated_at<?)"),
            std::string::npos) << pick;
  // The bytecode of an outcome's UPDATE and of a delivery's INSERT opens no ephemeral table.
  for (const char* sql : {
           "UPDATE deliveries SET status = ?2, updated_at = ?3 WHERE id = ?1",
           "INSERT INTO deliveries(id, event_id, webhook_id, organization_id, status, attempts, next_attempt_at, "
           "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, 'pending', 0, 0, 0, 0)"}) {
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, (std::string("EXPLAIN ") + sql).c_str(), -1, &st, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    int ephemeral = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
      if (std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 1))) == "OpenEphemeral") ++ephemeral;
    }
    sqlite3_finalize(st);
    EXPECT_EQ(ephemeral, 0) << sql;
  }
  sqlite3_close(db);
}

}  // namespace
}  // namespace ulak::store::sqlite
