#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"

namespace ulak::store {

Result<std::unique_ptr<Store>> OpenStore(std::string_view database_url) {
  auto starts_with = [&](std::string_view p) { return database_url.substr(0, p.size()) == p; };
  // URIs and libpq's key=value strings both go to libpq as they are.
  if (starts_with("postgres://") || starts_with("postgresql://") || starts_with("host=") ||
      starts_with("dbname=")) {
    ULAK_ASSIGN_OR_RETURN(auto store, postgres::PostgresStore::Open(std::string(database_url)));
    return std::unique_ptr<Store>(std::move(store));
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
  ULAK_ASSIGN_OR_RETURN(auto store, sqlite::SqliteStore::Open(std::string(path)));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace ulak::store
