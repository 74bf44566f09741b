// Many rows as one statement's parameters: each column becomes one PostgreSQL array literal
// (`{"a",NULL,"b"}`), sent as one text parameter and read back with `unnest($1::text[],
// $2::bigint[], ...)`. So a batch of N rows is one statement and one round trip, not N.
// PgColumns is a sql::ParamWriter, so the shared row writers (sql::WriteDelivery,
// WriteAttempt, ...) fill it exactly as they fill one row's Params.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/postgres/connection.h"
#include "store/sql/row_io.h"

namespace ulak::store::postgres {

class PgColumns final : public sql::ParamWriter {
 public:
  explicit PgColumns(int columns) : columns_(static_cast<size_t>(columns), std::string("{")) {}

  // Quoted, with `"` and `\` escaped: any text survives (PostgreSQL text holds no NUL).
  PgColumns& Text(std::string_view text) override {
    std::string& c = Next();
    c += '"';
    for (char ch : text) {
      if (ch == '"' || ch == '\\') c += '\\';
      c += ch;
    }
    c += '"';
    return *this;
  }
  // BYTEA's hex input form (`\x4142`), its backslash escaped for the array literal: raw
  // bytes, NUL and invalid UTF-8 included, survive. Read with `$N::bytea[]`.
  PgColumns& Bytes(std::string_view bytes) override {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string& c = Next();
    c.reserve(c.size() + 2 * bytes.size() + 6);
    c += "\"\\\\x";
    for (unsigned char b : bytes) {
      c += kHex[b >> 4];
      c += kHex[b & 15];
    }
    c += '"';
    return *this;
  }
  PgColumns& Int(int64_t value) override {
    Next() += std::to_string(value);
    return *this;
  }
  PgColumns& Bool(bool value) override {
    Next() += value ? 't' : 'f';
    return *this;
  }
  PgColumns& Null() override {
    Next() += "NULL";
    return *this;
  }

  // Ends a row. REQUIRES: every column was written exactly once since the last EndRow.
  void EndRow() {
    next_ = 0;
    ++rows_;
  }
  int rows() const { return rows_; }
  // Appends one array parameter per column to p, in column order.
  void AddTo(Params& p) const {
    for (size_t i = 0; i < columns_.size(); ++i) p.Add(Literal(i));
  }
  // The statement's whole parameter list: one array per column, $1 ... $N in column order.
  Params AsParams() const {
    Params p;
    AddTo(p);
    return p;
  }
  std::string Literal(size_t column) const { return columns_.at(column) + "}"; }

 private:
  // REQUIRES: fewer values than columns written in this row (at() throws otherwise: a bug).
  std::string& Next() {
    std::string& c = columns_.at(next_++);
    if (rows_ > 0) c += ',';
    return c;
  }

  std::vector<std::string> columns_;
  size_t next_ = 0;
  int rows_ = 0;
};

}  // namespace ulak::store::postgres
