// Runs the Store conformance suite against the SQLite store, one fresh file per test.
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
