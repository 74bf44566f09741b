// What the PostgreSQL store does when its server stops accepting writes (issue 15, Convoy
// #1667/#1811): a session on a read-only server is refused at connect (ulak asks libpq for
// target_session_attrs=read-write unless the conninfo says otherwise), a session that
// finds its server read-only mid-way is dropped as unavailable (SQLSTATE 25006), and a
// store given a primary and its standby (`host=primary,standby`) follows a failover: the
// standby is refused until promoted, then taken, with everything committed before the
// primary died.
#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/ids.h"
#include "common/random.h"
#include "store/postgres/connection.h"
#include "store/store.h"
#include "support/postgres_cluster.h"

namespace ulak::store::testing {
namespace {

using ulak::testing::PostgresCluster;

std::string SharedDatabase() {
  Result<PostgresCluster*> cluster = PostgresCluster::Shared();
  if (!cluster.ok()) {
    ADD_FAILURE() << "no PostgreSQL test cluster: " << cluster.status().message();
    return "";
  }
  Result<std::string> conninfo = (*cluster)->CreateDatabase();
  if (!conninfo.ok()) ADD_FAILURE() << conninfo.status().message();
  return conninfo.ok() ? *conninfo : "";
}

TEST(PostgresReadOnlyTest, AWriteRefusedAsReadOnlyDropsTheSessionAsUnavailable) {
  const std::string conninfo = SharedDatabase();
  ASSERT_FALSE(conninfo.empty());
  Result<std::unique_ptr<postgres::Connection>> conn = postgres::Connection::Open(conninfo);
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  // What a session opened on a primary sees once that server has been demoted.
  ASSERT_TRUE((*conn)->Exec("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY").ok());
  Result<postgres::PgResult> wrote = (*conn)->Query("CREATE TABLE read_only_probe (x INTEGER)");
  EXPECT_EQ(wrote.status().code(), ErrorCode::kUnavailable) << wrote.status().ToString();
  EXPECT_TRUE((*conn)->broken()) << "a session on a read-only server went back to the pool";
}

TEST(PostgresReadOnlyTest, AReadOnlyServerIsRefusedAtConnectUnlessTheConninfoAllowsIt) {
  const std::string conninfo = SharedDatabase();
  ASSERT_FALSE(conninfo.empty());
  const std::string dbname = conninfo.substr(conninfo.rfind('=') + 1);
  Result<PostgresCluster*> cluster = PostgresCluster::Shared();
  ASSERT_TRUE(cluster.ok());
  // New sessions of this database start read-only, as on a hot standby.
  ASSERT_TRUE((*cluster)->QueryForTest("ALTER DATABASE " + dbname + " SET default_transaction_read_only = on").ok());
  Result<std::unique_ptr<postgres::Connection>> refused = postgres::Connection::Open(conninfo);
  EXPECT_EQ(refused.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(refused.status().message().find("read-only"), std::string::npos) << refused.status().message();
  // Explicitly asked for: allowed (the conninfo overrides ulak's default).
  EXPECT_TRUE(postgres::Connection::Open(conninfo + " target_session_attrs=any").ok());
}

// A primary, a synchronous standby, and a store given both hosts (no
// target_session_attrs: ulak's default applies). The conninfo starts with `user=`, which
// OpenStore must recognise as PostgreSQL too.
TEST(PostgresFailoverTest, StoreGivenBothHostsFollowsThePromotedStandby) {
  Result<std::unique_ptr<PostgresCluster>> primary = PostgresCluster::StartPrivate();
  ASSERT_TRUE(primary.ok()) << primary.status().message();
  Result<std::unique_ptr<PostgresCluster>> standby = (*primary)->StartStandby();
  ASSERT_TRUE(standby.ok()) << standby.status().message();
  Status sync = (*primary)->RequireSynchronousStandby();
  ASSERT_TRUE(sync.ok()) << sync.message();
  ASSERT_TRUE((*primary)->QueryForTest("CREATE DATABASE failover").ok());

  const std::string conninfo =
      "user=postgres host=" + (*primary)->socket_dir() + "," + (*standby)->socket_dir() + " port=5432 dbname=failover";
  ASSERT_TRUE(CheckDatabaseUrl(conninfo).ok());
  Result<std::unique_ptr<Store>> opened = OpenStore(conninfo);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Store& store = **opened;
  ASSERT_TRUE(store.Migrate().ok());
  ManualClock clock;
  SeededRandomForTest random(15);
  const auto new_org = [&] {
    clock.Advance(Millis(1));
    Organization org{NewId(clock, random), "org", clock.Now()};
    clock.Advance(Millis(1));
    return std::make_pair(org, ApiKey{NewId(clock, random), org.id, "hash-" + org.id, "ulak_x", clock.Now()});
  };
  const auto [before, before_key] = new_org();
  ASSERT_TRUE(store.CreateOrganization(before, before_key).ok());

  ASSERT_TRUE((*primary)->StopForTest().ok());  // immediate: as a crash
  // Only the standby is left, read-only: unavailable (503 upstream), never an internal error.
  const auto [during, during_key] = new_org();
  EXPECT_EQ(store.CreateOrganization(during, during_key).code(), ErrorCode::kUnavailable);
  EXPECT_EQ(store.Ping().code(), ErrorCode::kUnavailable);

  Status promoted = (*standby)->Promote();
  ASSERT_TRUE(promoted.ok()) << promoted.message();
  // pg_ctl promote -w has returned: the new primary accepts writes, and the pool's
  // connection to the dead primary is found closed and replaced.
  Status ping = store.Ping();
  ASSERT_TRUE(ping.ok()) << ping.ToString();
  Result<Organization> got = store.GetOrganization(before.id);  // committed before the crash
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->name, "org");
  const auto [after, after_key] = new_org();
  EXPECT_TRUE(store.CreateOrganization(after, after_key).ok());
  Result<std::string> count = (*standby)->QueryForTest("SELECT count(*) FROM organizations", "failover");
  ASSERT_TRUE(count.ok()) << count.status().message();
  EXPECT_EQ(*count, "2");
}

}  // namespace
}  // namespace ulak::store::testing
