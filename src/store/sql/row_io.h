// The two small interfaces through which the shared SQL layer (rows.h) reads a result row
// and writes a statement's parameters, whatever the dialect: each store adapts its own
// result type (sqlite3_stmt, PGresult) and parameter list to them (sqlite/sql_io.h,
// postgres/sql_io.h), so a row's mapping to its struct is written once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "store/types.h"

namespace ulak::store::sql {

// One result row; columns are 0-based, in the order of the column list that selected them.
class RowReader {
 public:
  virtual ~RowReader() = default;
  virtual bool IsNull(int col) const = 0;
  virtual std::string Text(int col) const = 0;
  // A BYTEA (PostgreSQL) or TEXT/BLOB (SQLite) column holding raw bytes; NULL reads as empty.
  virtual std::string Bytes(int col) const = 0;
  virtual int64_t Int(int col) const = 0;
  virtual bool Bool(int col) const = 0;
  virtual double Double(int col) const = 0;

  std::optional<TimePoint> OptionalTime(int col) const {
    if (IsNull(col)) return std::nullopt;
    return FromUnixMillis(Int(col));
  }
  TimePoint Time(int col) const { return FromUnixMillis(Int(col)); }
};

// A statement's parameters, written in placeholder order: the first call fills ?1 ($1), the
// next ?2, and so on (a writer may start later, see sqlite/sql_io.h).
class ParamWriter {
 public:
  virtual ~ParamWriter() = default;
  virtual ParamWriter& Text(std::string_view text) = 0;
  // Raw bytes for a BYTEA column (PostgreSQL sends them binary); TEXT on SQLite.
  virtual ParamWriter& Bytes(std::string_view bytes) = 0;
  virtual ParamWriter& Int(int64_t value) = 0;
  virtual ParamWriter& Bool(bool value) = 0;
  virtual ParamWriter& Null() = 0;

  ParamWriter& Time(TimePoint t) { return Int(ToUnixMillis(t)); }
  ParamWriter& OptionalTime(const std::optional<TimePoint>& t) { return t ? Time(*t) : Null(); }
  ParamWriter& OptionalInt(const std::optional<int64_t>& v) { return v ? Int(*v) : Null(); }
  // Empty text is stored as NULL (columns whose absence is NULL).
  ParamWriter& TextOrNull(std::string_view text) { return text.empty() ? Null() : Text(text); }
};

}  // namespace ulak::store::sql
