// The SQLite side of the shared SQL layer (src/store/sql/): a prepared statement's current
// row as a sql::RowReader, and its bindings as a sql::ParamWriter.
#pragma once

#include "store/sql/row_io.h"
#include "store/sqlite/connection.h"

namespace ulak::store::sqlite {

class SqliteRow final : public sql::RowReader {
 public:
  explicit SqliteRow(const Statement& st) : st_(st) {}
  bool IsNull(int col) const override { return st_.ColumnIsNull(col); }
  std::string Text(int col) const override { return st_.ColumnText(col); }
  std::string Bytes(int col) const override { return st_.ColumnText(col); }
  int64_t Int(int col) const override { return st_.ColumnInt(col); }
  bool Bool(int col) const override { return st_.ColumnInt(col) != 0; }
  double Double(int col) const override { return st_.ColumnDouble(col); }

 private:
  const Statement& st_;
};

// Binds ?first, ?first+1, ... in the order written. Booleans are 0 and 1.
class SqliteParams final : public sql::ParamWriter {
 public:
  explicit SqliteParams(Statement& st, int first = 1) : st_(st), next_(first) {}
  SqliteParams& Text(std::string_view text) override { return Next([&](int i) { st_.Bind(i, text); }); }
  SqliteParams& Bytes(std::string_view bytes) override { return Text(bytes); }
  SqliteParams& Int(int64_t value) override { return Next([&](int i) { st_.Bind(i, value); }); }
  SqliteParams& Bool(bool value) override { return Int(value ? 1 : 0); }
  SqliteParams& Null() override { return Next([&](int i) { st_.BindNull(i); }); }
  // The placeholder the next value fills.
  int next() const { return next_; }

 private:
  template <typename F>
  SqliteParams& Next(F bind) {
    bind(next_++);
    return *this;
  }
  Statement& st_;
  int next_;
};

}  // namespace ulak::store::sqlite
