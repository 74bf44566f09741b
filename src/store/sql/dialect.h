// The two dialects the shared SQL is rendered for. Shared SQL is written with SQLite's
// numbered placeholders (?1, ?2, ...); PostgreSQL numbers them $1, $2, ...
#pragma once

#include <string>
#include <string_view>

namespace ulak::store::sql {

enum class Dialect { kSqlite, kPostgres };

// Replaces every ?N by $N. REQUIRES: sql has no '?' followed by a digit inside a string
// literal or identifier (true of every statement in src/store/sql/).
inline std::string ForPostgres(std::string_view sql) {
  std::string out(sql);
  for (size_t i = 0; i + 1 < out.size(); ++i) {
    if (out[i] == '?' && out[i + 1] >= '0' && out[i + 1] <= '9') out[i] = '$';
  }
  return out;
}

// One statement both stores run, rendered once for each: sqlite() as written, postgres()
// with $N placeholders.
class Sql {
 public:
  explicit Sql(std::string text) : postgres_(ForPostgres(text)), sqlite_(std::move(text)) {}
  const std::string& sqlite() const { return sqlite_; }
  const std::string& postgres() const { return postgres_; }
  const std::string& For(Dialect d) const { return d == Dialect::kSqlite ? sqlite_ : postgres_; }

 private:
  std::string postgres_;
  std::string sqlite_;
};

}  // namespace ulak::store::sql
