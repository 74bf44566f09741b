// Runs the Store conformance suite against the SQLite store, one fresh file per test.
#include <filesystem>

#include "store/conformance.h"
#include "store/sqlite/sqlite_store.h"
#include "support/temp_dir.h"

namespace ulak::store::testing {
namespace {

StoreFactory SqliteFactory() {
  return {"sqlite", [] {
            static ulak::testing::TempDir dir;  // lives for the whole test binary
            static int counter = 0;
            const std::string path = dir.path() + "/conformance_" + std::to_string(++counter) + ".db";
            auto store = sqlite::SqliteStore::Open(path);
            if (!store.ok() || !(*store)->Migrate().ok()) return std::unique_ptr<Store>();
            return std::unique_ptr<Store>(std::move(store).value());
          }};
}

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformanceTest, ::testing::Values(SqliteFactory()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace ulak::store::testing
