// Helpers of the SQLite query-plan tests (sqlite_*_plan_test.cc): a freshly migrated database
// file, and what SQLite says it will do with a statement.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>

#include "store/sqlite/sqlite_store.h"
#include "support/temp_dir.h"

namespace ulak::store::sqlite {

// A database file in `dir` migrated to the newest schema, opened raw (the caller closes it);
// null, with a test failure, if that fails.
inline sqlite3* OpenMigratedForPlans(const ulak::testing::TempDir& dir) {
  const std::string path = dir.path() + "/plan.db";
  {
    auto store = SqliteStore::Open(path);
    if (!store.ok() || !(*store)->Migrate().ok()) {
      ADD_FAILURE() << "cannot migrate " << path;
      return nullptr;
    }
  }
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) ADD_FAILURE() << "cannot open " << path;
  return db;
}

// EXPLAIN QUERY PLAN's detail column, a line per row.
inline std::string QueryPlan(sqlite3* db, const std::string& sql) {
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

}  // namespace ulak::store::sqlite
