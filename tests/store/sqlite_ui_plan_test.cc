// The charts' query reads attempts through an index, never a scan of the attempts table:
// EXPLAIN QUERY PLAN on a migrated SQLite database.
#include <string>

#include "store/sqlite_plan.h"

namespace ulak::store::sqlite {
namespace {

TEST(SqliteUiQueryPlan, DeliveryBucketsSearchAnIndexOfAttempts) {
  ulak::testing::TempDir dir;
  sqlite3* db = OpenMigratedForPlans(dir);
  ASSERT_NE(db, nullptr);
  const std::string org = QueryPlan(db, DeliveryBucketsSql(false));
  EXPECT_NE(org.find("SEARCH attempts USING INDEX attempts_by_time"), std::string::npos) << org;
  const std::string webhook = QueryPlan(db, DeliveryBucketsSql(true));
  EXPECT_NE(webhook.find("SEARCH attempts USING INDEX attempts_by_webhook_time"), std::string::npos) << webhook;
  EXPECT_EQ((org + webhook).find("SCAN attempts"), std::string::npos) << org << webhook;
  sqlite3_close(db);
}

}  // namespace
}  // namespace ulak::store::sqlite
