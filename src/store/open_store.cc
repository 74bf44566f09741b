#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"

namespace ulak::store {

namespace {

enum class Backend { kSqlite, kPostgres };

// What a database URL names: the backend, and for SQLite the file path.
Result<std::pair<Backend, std::string_view>> ParseDatabaseUrl(std::string_view database_url) {
  auto starts_with = [&](std::string_view p) { return database_url.substr(0, p.size()) == p; };
  // URIs and libpq's key=value strings both go to libpq as they are. A key=value string
  // may begin with any keyword ("user=… host=a,b …"); a SQLite path is written sqlite:PATH
  // or has a character no libpq keyword has ('/', '.') before any '='.
  const size_t key_end = database_url.find_first_not_of("abcdefghijklmnopqrstuvwxyz_");
  const size_t equals =
      key_end == std::string_view::npos ? std::string_view::npos : database_url.find_first_not_of(' ', key_end);
  const bool key_value = key_end > 0 && equals != std::string_view::npos && database_url[equals] == '=';
  if (starts_with("postgres://") || starts_with("postgresql://") || key_value) {
    return std::make_pair(Backend::kPostgres, database_url);
  }
  std::string_view path = database_url;
  if (starts_with("sqlite://")) {
    path.remove_prefix(9);
  } else if (starts_with("sqlite:")) {
    path.remove_prefix(7);
  } else if (database_url.find("://") != std::string_view::npos) {
    return InvalidArgument("unsupported database URL '" + std::string(database_url) +
                           "'; expected sqlite:PATH or postgres://...");
  }
  if (path.empty()) return InvalidArgument("the database URL names no SQLite file");
  return std::make_pair(Backend::kSqlite, path);
}

}  // namespace

Status CheckDatabaseUrl(std::string_view database_url) { return ParseDatabaseUrl(database_url).status(); }

Result<std::unique_ptr<Store>> OpenStore(std::string_view database_url) {
  ULAK_ASSIGN_OR_RETURN(auto parsed, ParseDatabaseUrl(database_url));
  if (parsed.first == Backend::kPostgres) {
    ULAK_ASSIGN_OR_RETURN(auto store, postgres::PostgresStore::Open(std::string(parsed.second)));
    return std::unique_ptr<Store>(std::move(store));
  }
  ULAK_ASSIGN_OR_RETURN(auto store, sqlite::SqliteStore::Open(std::string(parsed.second)));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace ulak::store
