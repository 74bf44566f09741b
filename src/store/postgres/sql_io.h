// The PostgreSQL side of the shared SQL layer (src/store/sql/): one row of a PgResult as a
// sql::RowReader, and a Params list as a sql::ParamWriter.
#pragma once

#include "store/postgres/connection.h"
#include "store/sql/row_io.h"

namespace ulak::store::postgres {

class PgRow final : public sql::RowReader {
 public:
  PgRow(const PgResult& r, int row) : r_(r), row_(row) {}
  bool IsNull(int col) const override { return r_.IsNull(row_, col); }
  std::string Text(int col) const override { return r_.Text(row_, col); }
  std::string Bytes(int col) const override { return r_.Bytes(row_, col); }
  int64_t Int(int col) const override { return r_.Int(row_, col); }
  bool Bool(int col) const override { return r_.Bool(row_, col); }
  double Double(int col) const override { return r_.Double(row_, col); }

 private:
  const PgResult& r_;
  int row_;
};

// Appends to p, so $N follows the order written.
class PgParams final : public sql::ParamWriter {
 public:
  explicit PgParams(Params& p) : p_(p) {}
  PgParams& Text(std::string_view text) override { return Then(p_.Add(text)); }
  PgParams& Bytes(std::string_view bytes) override { return Then(p_.AddBytes(bytes)); }
  PgParams& Int(int64_t value) override { return Then(p_.Add(value)); }
  PgParams& Bool(bool value) override { return Then(p_.AddBool(value)); }
  PgParams& Null() override { return Then(p_.AddNull()); }

 private:
  PgParams& Then(Params&) { return *this; }
  Params& p_;
};

}  // namespace ulak::store::postgres
