// Runs the Store conformance suite against the SQLite store, one fresh file per test.
#include <sqlite3.h>

#include <filesystem>
#include <map>

#include "store/conformance.h"
#include "store/sqlite/sqlite_store.h"
#include "support/temp_dir.h"

namespace ulak::store::testing {
namespace {

// Each store's file, for file_bytes.
std::map<const Store*, std::string>& Paths() {
  static std::map<const Store*, std::string> paths;
  return paths;
}

StoreFactory SqliteFactory() {
  return {"sqlite",
          [] {
            static ulak::testing::TempDir dir;  // lives for the whole test binary
            static int counter = 0;
            const std::string path = dir.path() + "/conformance_" + std::to_string(++counter) + ".db";
            auto store = sqlite::SqliteStore::Open(path);
            if (!store.ok() || !(*store)->Migrate().ok()) return std::unique_ptr<Store>();
            Paths()[store->get()] = path;
            return std::unique_ptr<Store>(std::move(store).value());
          },
          [](Store& store, const std::string& sql) { return dynamic_cast<sqlite::SqliteStore&>(store).ExecForTest(sql); },
          [](Store& store) -> int64_t {
            const std::string& path = Paths()[&store];
            int64_t total = 0;
            for (const std::string& file : {path, path + "-wal"}) {
              std::error_code ec;
              const auto size = std::filesystem::file_size(file, ec);
              if (!ec) total += static_cast<int64_t>(size);
            }
            return total;
          }};
}

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformanceTest, ::testing::Values(SqliteFactory()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace ulak::store::testing

namespace ulak::store::testing {
namespace {

// Issue 16: a file made before migration 0008 (auto_vacuum=NONE) is switched to
// auto_vacuum=INCREMENTAL by Migrate, so retention can give its pages back; a new file
// starts so.
TEST(SqliteRetentionTest, MigrateSwitchesAnOlderFileToIncrementalAutoVacuum) {
  ulak::testing::TempDir dir;
  const std::string path = dir.path() + "/old.db";
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "CREATE TABLE older (x INTEGER)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  auto store = sqlite::SqliteStore::Open(path);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Migrate().ok());
  store->reset();
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, "PRAGMA auto_vacuum", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 2) << "2 is INCREMENTAL";
  sqlite3_finalize(st);
  sqlite3_close(raw);

  auto fresh = sqlite::SqliteStore::Open(dir.path() + "/new.db");
  ASSERT_TRUE(fresh.ok());
  ASSERT_TRUE((*fresh)->Migrate().ok());
  ASSERT_TRUE((*fresh)->ReclaimSpace(10).ok());  // nothing to give back, but it runs
}

}  // namespace
}  // namespace ulak::store::testing
