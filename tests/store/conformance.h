// The Store conformance suite: behaviour every Store implementation must show, written
// against the interface only. An implementation joins by instantiating the suite with a
// factory (see sqlite_conformance_test.cc).
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "store/store.h"

namespace ulak::store::testing {

struct StoreFactory {
  std::string name;
  // Returns a fresh, empty, migrated store.
  std::function<std::unique_ptr<Store>()> make;
  // Runs raw SQL in the store's dialect (name): bulk fixtures too large to build through
  // the interface in a unit test's time.
  std::function<Status(Store&, const std::string& sql)> exec_sql = {};
  // The database file's size in bytes; unset for stores without one file (PostgreSQL).
  std::function<int64_t(Store&)> file_bytes = {};
};
inline void PrintTo(const StoreFactory& factory, std::ostream* os) { *os << factory.name; }

class StoreConformanceTest : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override {
    store_ = GetParam().make();
    ASSERT_NE(store_, nullptr);
  }
  std::unique_ptr<Store> store_;
};

}  // namespace ulak::store::testing
