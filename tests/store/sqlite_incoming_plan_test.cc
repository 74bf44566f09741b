// Issue 17: the incoming log's queries and the events' de-duplication each search the index
// made for them (EXPLAIN QUERY PLAN on a migrated SQLite database), so no index is kept that
// no query uses, and none of them scans a table.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>

#include "store/sqlite/sqlite_store.h"
#include "support/temp_dir.h"

namespace ulak::store::sqlite {
namespace {

std::string Plan(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, ("EXPLAIN QUERY PLAN " + sql).c_str(), -1, &st, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db) << "\n" << sql;
  std::string plan;
  while (st != nullptr && sqlite3_step(st) == SQLITE_ROW) {
    plan += reinterpret_cast<const char*>(sqlite3_column_text(st, 3));
    plan += "\n";
  }
  sqlite3_finalize(st);
  return plan;
}

TEST(SqliteIncomingQueryPlan, EachQuerySearchesItsIndex) {
  ulak::testing::TempDir dir;
  const std::string path = dir.path() + "/plan.db";
  {
    auto store = SqliteStore::Open(path);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Migrate().ok());
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  IncomingFilter f;
  f.organization_id = "o";
  f.before = "x";
  f.status = IncomingStatus::kAccepted;
  const std::string org = Plan(db, ListIncomingSql(f));
  EXPECT_NE(org.find("SEARCH r USING INDEX incoming_by_organization (organization_id=? AND id<?)"), std::string::npos)
      << org;
  f.source_id = "s";
  const std::string source = Plan(db, ListIncomingSql(f));
  EXPECT_NE(source.find("SEARCH r USING INDEX incoming_by_source (source_id=? AND id<?)"), std::string::npos)
      << source;
  // The body's event, by its primary key.
  EXPECT_NE(source.find("SEARCH e USING INDEX sqlite_autoindex_events_1 (id=?)"), std::string::npos) << source;
  const std::string dedupe =
      Plan(db, "SELECT id FROM events WHERE idempotency_key = ?3 AND organization_id = ?1 AND event_id = ?2");
  EXPECT_NE(dedupe.find("USING INDEX events_by_idempotency_key (idempotency_key=?)"), std::string::npos) << dedupe;
  const std::string fill =
      Plan(db, "SELECT id, organization_id, event_id FROM events WHERE event_id IS NOT NULL AND "
               "idempotency_key IS NULL LIMIT ?1");
  EXPECT_NE(fill.find("USING INDEX events_without_idempotency_key"), std::string::npos) << fill;
  const std::string prune = Plan(db,
      "SELECT id FROM incoming_requests WHERE organization_id = ?1 AND id < printf('%08x-%04x', ?2 >> 16, "
      "?2 & 65535) AND created_at < ?2 ORDER BY id LIMIT ?3");
  EXPECT_NE(prune.find("USING INDEX incoming_by_organization (organization_id=? AND id<?)"), std::string::npos)
      << prune;
  const std::string all = org + source + dedupe + fill + prune;
  EXPECT_EQ(all.find("SCAN incoming_requests"), std::string::npos) << all;
  EXPECT_EQ(all.find("SCAN r"), std::string::npos) << all;
  EXPECT_EQ(all.find("TEMP B-TREE"), std::string::npos) << all;
  sqlite3_close(db);
}

// Retention's pick of finished deliveries searches the partial index made for it, and no
// delivery row written on the hot path (an INSERT per publish, an UPDATE per outcome) makes
// SQLite build a temporary b-tree to evaluate that index's condition (migration 0016: an IN
// list of three constants is coded as one, NOT IN of two as two comparisons).
TEST(SqliteRetentionQueryPlan, FinishedDeliveriesSearchTheirIndexAndRowWritesNeedNoTemporaryTree) {
  ulak::testing::TempDir dir;
  const std::string path = dir.path() + "/plan.db";
  {
    auto store = SqliteStore::Open(path);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Migrate().ok());
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  const std::string pick = Plan(db,
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
