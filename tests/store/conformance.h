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
