// Issue 17: the incoming log's queries and the events' de-duplication each search the index
// made for them (EXPLAIN QUERY PLAN on a migrated SQLite database), so no index is kept that
// no query uses, and none of them scans a table.
#include <string>

#include "store/sqlite_plan.h"

namespace ulak::store::sqlite {
namespace {

TEST(SqliteIncomingQueryPlan, EachQuerySearchesItsIndex) {
  ulak::testing::TempDir dir;
  sqlite3* db = OpenMigratedForPlans(dir);
  ASSERT_NE(db, nullptr);
  IncomingFilter f;
  f.organization_id = "o";
  f.before = "x";
  f.status = IncomingStatus::kAccepted;
  const std::string org = QueryPlan(db, ListIncomingSql(f));
  EXPECT_NE(org.find("SEARCH r USING INDEX incoming_by_organization (organization_id=? AND id<?)"), std::string::npos)
      << org;
  f.source_id = "s";
  const std::string source = QueryPlan(db, ListIncomingSql(f));
  EXPECT_NE(source.find("SEARCH r USING INDEX incoming_by_source (source_id=? AND id<?)"), std::string::npos)
      << source;
  // The body's event, by its primary key.
  EXPECT_NE(source.find("SEARCH e USING INDEX sqlite_autoindex_events_1 (id=?)"), std::string::npos) << source;
  const std::string dedupe =
      QueryPlan(db, "SELECT id FROM events WHERE idempotency_key = ?3 AND organization_id = ?1 AND event_id = ?2");
  EXPECT_NE(dedupe.find("USING INDEX events_by_idempotency_key (idempotency_key=?)"), std::string::npos) << dedupe;
  const std::string fill =
      QueryPlan(db, "SELECT id, organization_id, event_id FROM events WHERE event_id IS NOT NULL AND "
               "idempotency_key IS NULL LIMIT ?1");
  EXPECT_NE(fill.find("USING INDEX events_without_idempotency_key"), std::string::npos) << fill;
  const std::string prune = QueryPlan(db,
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

}  // namespace
}  // namespace ulak::store::sqlite
