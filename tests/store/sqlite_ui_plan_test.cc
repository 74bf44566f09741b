// The charts' query reads attempts through an index, never a scan of the attempts table:
// EXPLAIN QUERY PLAN on a migrated SQLite database.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>

#include "store/sqlite/sqlite_store.h"
#include "support/temp_dir.h"

namespace ulak::store::sqlite {
namespace {

std::string Plan(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, ("EXPLAIN QUERY PLAN " + sql).c_str(), -1, &st, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  std::string plan;
  while (st != nullptr && sqlite3_step(st) == SQLITE_ROW) {
    plan += reinterpret_cast<const char*>(sqlite3_column_text(st, 3));
    plan += "\n";
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return plan;
}

TEST(SqliteUiQueryPlan, DeliveryBucketsSearchAnIndexOfAttempts) {
  ulak::testing::TempDir dir;
  const std::string path = dir.path() + "/plan.db";
  {
    auto store = SqliteStore::Open(path);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Migrate().ok());
  }
  const std::string org = Plan(path, DeliveryBucketsSql(false));
  EXPECT_NE(org.find("SEARCH attempts USING INDEX attempts_by_time"), std::string::npos) << org;
  const std::string webhook = Plan(path, DeliveryBucketsSql(true));
  EXPECT_NE(webhook.find("SEARCH attempts USING INDEX attempts_by_webhook_time"), std::string::npos) << webhook;
  EXPECT_EQ((org + webhook).find("SCAN attempts"), std::string::npos) << org << webhook;
}

}  // namespace
}  // namespace ulak::store::sqlite
