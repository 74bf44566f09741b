#include "store/sqlite/connection.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <string>

namespace ulak::store::sqlite {
namespace {

class ConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("ulak_connection_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db"))
                .string();
    Remove();
  }
  void TearDown() override { Remove(); }
  void Remove() {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
  }

  std::unique_ptr<Connection> Open() {
    Result<std::unique_ptr<Connection>> conn = Connection::Open(path_);
    EXPECT_TRUE(conn.ok()) << conn.status().message();
    return conn.ok() ? std::move(conn).value() : nullptr;
  }

  int64_t CountRows(Connection& conn) {
    Result<Statement*> st = conn.Prepare("SELECT COUNT(*) FROM t");
    EXPECT_TRUE(st.ok());
    Result<bool> row = (*st)->Step();
    EXPECT_TRUE(row.ok() && *row);
    const int64_t n = (*st)->ColumnInt(0);
    (*st)->Reset();
    return n;
  }

  std::string path_;
};

TEST_F(ConnectionTest, PrepareFindsTheCachedStatementFromAnyStringOfTheSameText) {
  auto conn = Open();
  ASSERT_NE(conn, nullptr);
  const std::string owned = "SELECT 1";
  Result<Statement*> a = conn->Prepare(owned);
  Result<Statement*> b = conn->Prepare(std::string_view("SELECT 1 AS x").substr(0, 8));
  Result<Statement*> c = conn->Prepare("SELECT 2");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);
}

TEST_F(ConnectionTest, RunCommitsAndRollsBackThroughCachedStatements) {
  auto conn = Open();
  auto other = Open();
  ASSERT_NE(conn, nullptr);
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(conn->Exec("CREATE TABLE t (x INTEGER)").ok());
  for (int i = 0; i < 3; ++i) {  // the same cached BEGIN and COMMIT, again and again
    WriteTransaction tx(*conn);
    ASSERT_TRUE(tx.Begin().ok());
    ASSERT_TRUE(conn->Exec("INSERT INTO t VALUES (1)").ok());
    ASSERT_TRUE(tx.Commit().ok());
    EXPECT_EQ(CountRows(*other), i + 1);  // committed: another connection sees it
  }
  {
    WriteTransaction tx(*conn);
    ASSERT_TRUE(tx.Begin().ok());
    ASSERT_TRUE(conn->Exec("INSERT INTO t VALUES (1)").ok());
  }  // not committed: rolled back
  EXPECT_EQ(CountRows(*other), 3);
  // A statement that fails (COMMIT outside a transaction) is an error and leaves the cached
  // statements usable.
  EXPECT_FALSE(conn->Run("COMMIT").ok());
  WriteTransaction tx(*conn);
  ASSERT_TRUE(tx.Begin().ok());
  ASSERT_TRUE(tx.Commit().ok());
}

TEST_F(ConnectionTest, ProcessConfigurationKeepsNoMemoryStatistics) {
  auto conn = Open();  // applies ConfigureSqliteProcess before SQLite initializes, if nothing did before
  ASSERT_NE(conn, nullptr);
  if (!ConfigureSqliteProcess()) GTEST_SKIP() << "SQLite was initialized before the first Connection::Open";
  ASSERT_TRUE(conn->Exec("CREATE TABLE t (x TEXT); INSERT INTO t VALUES (hex(randomblob(5000)))").ok());
  EXPECT_EQ(CountRows(*conn), 1);
  // SQLITE_CONFIG_MEMSTATUS 0: no allocation is counted (the count needs SQLite's global mutex).
  EXPECT_EQ(sqlite3_memory_used(), 0);
}

}  // namespace
}  // namespace ulak::store::sqlite
