#include "store/postgres/postgres_store.h"

#include <libpq-fe.h>

#include "store/migration.h"
#include "store/postgres/page.h"
#include "store/postgres/sql_io.h"
#include "store/sql/rows.h"
#include "store/sql/statements.h"

namespace ulak::store::postgres {
namespace {

// The advisory lock Migrate() holds: an arbitrary constant ("ulak" in ASCII), the same on
// every node. Advisory locks are per database, so other databases on the server are not
// affected.
constexpr char kMigrationLock[] = "SELECT pg_advisory_lock(1970037099)";
constexpr char kMigrationUnlock[] = "SELECT pg_advisory_unlock(1970037099)";

Status InsertApiKey(Connection& conn, const ApiKey& key) {
  Params p;
  p.Add(key.id).Add(key.organization_id).Add(key.key_hash).Add(key.prefix).Add(ToUnixMillis(key.created_at));
  return conn.Query(sql::kInsertApiKey.postgres(), p).status();
}

ApiKey ReadApiKey(const PgResult& r, int row) { return sql::ReadApiKey(PgRow(r, row)); }
Organization ReadOrganization(const PgResult& r, int row) { return sql::ReadOrganization(PgRow(r, row)); }

// Releases the migration lock however Migrate() returns. If the unlock cannot be sent the
// session is dropped, which releases the lock too.
class MigrationLockGuard {
 public:
  explicit MigrationLockGuard(Connection& conn) : conn_(conn) {}
  ~MigrationLockGuard() {
    if (!conn_.IdleOutsideTransaction() || !conn_.Exec(kMigrationUnlock).ok()) conn_.MarkBroken();
  }
  MigrationLockGuard(const MigrationLockGuard&) = delete;
  MigrationLockGuard& operator=(const MigrationLockGuard&) = delete;

 private:
  Connection& conn_;
};

}  // namespace

Result<std::unique_ptr<PostgresStore>> PostgresStore::Open(const std::string& conninfo, int max_connections) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options == nullptr) {
    std::string message = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return InvalidArgument("invalid PostgreSQL connection string: " + message);
  }
  PQconninfoFree(options);
  std::unique_ptr<PostgresStore> store(new PostgresStore(conninfo, max_connections < 1 ? 1 : max_connections));
  ULAK_ASSIGN_OR_RETURN(auto conn, Connection::Open(conninfo));
  {
    std::lock_guard lock(store->mu_);
    store->open_count_ = 1;
  }
  store->Release(std::move(conn));
  return store;
}

PostgresStore::~PostgresStore() = default;

Result<PostgresStore::Lease> PostgresStore::Acquire() {
  std::unique_lock lock(mu_);
  for (;;) {
    while (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      if (conn->LooksAlive()) return Lease(this, std::move(conn));
      --open_count_;  // closed by the server meanwhile (restart, idle timeout): reconnect
    }
    if (open_count_ < max_connections_) break;
    available_.wait(lock);
  }
  ++open_count_;
  lock.unlock();
  Result<std::unique_ptr<Connection>> conn = Connection::Open(conninfo_);
  if (!conn.ok()) {
    std::lock_guard relock(mu_);
    --open_count_;
    available_.notify_one();
    return conn.status();
  }
  return Lease(this, std::move(conn).value());
}

void PostgresStore::Release(std::unique_ptr<Connection> conn) {
  // Only a healthy session outside any transaction goes back; anything else is closed (the
  // server then rolls back whatever it held) and the next caller opens a new one.
  const bool reusable = !conn->broken() && conn->IdleOutsideTransaction();
  if (!reusable) conn.reset();  // close outside the lock
  std::lock_guard lock(mu_);
  if (reusable) {
    idle_.push_back(std::move(conn));
  } else {
    --open_count_;
  }
  available_.notify_one();
}

Status PostgresStore::Migrate() {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  // Held for the whole run, so nodes starting together migrate one after the other and the
  // later ones find every version applied. Also covers CREATE TABLE IF NOT EXISTS, which is
  // not safe against itself when run concurrently.
  ULAK_RETURN_IF_ERROR(conn->Exec(kMigrationLock));
  MigrationLockGuard unlock(*conn);
  ULAK_RETURN_IF_ERROR(conn->Exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"));
  for (const Migration& m : PostgresMigrations()) {
    Transaction tx(*conn);
    ULAK_RETURN_IF_ERROR(tx.Begin());
    ULAK_ASSIGN_OR_RETURN(PgResult applied, conn->Query(sql::kMigrationApplied.postgres(),
                                                         Params().Add(int64_t{m.version})));
    if (applied.rows() > 0) continue;
    // DDL is transactional in PostgreSQL: a migration and its record commit together.
    Status s = conn->Exec(m.sql);
    if (!s.ok()) {
      if (s.code() == ErrorCode::kUnavailable) return s;
      return Internal("migration " + std::string(m.name) + " failed: " + s.message());
    }
    ULAK_RETURN_IF_ERROR(conn->Query(
        "INSERT INTO schema_migrations(version, name, applied_at) "
        "VALUES ($1, $2, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)",
        Params().Add(int64_t{m.version}).Add(m.name)).status());
    ULAK_RETURN_IF_ERROR(tx.Commit());
  }
  return Status::Ok();
}

Result<int> PostgresStore::SchemaVersion() {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(PgResult exists,
                        conn->Query("SELECT to_regclass('schema_migrations') IS NOT NULL"));
  if (exists.rows() == 0 || !exists.Bool(0, 0)) return 0;
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(sql::kSchemaVersion.postgres()));
  return r.rows() > 0 ? static_cast<int>(r.Int(0, 0)) : 0;
}

Status PostgresStore::Ping() {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query("SELECT 1"));
  return r.rows() == 1 ? Status::Ok() : Unavailable("SELECT 1 returned no row");
}

Result<std::optional<std::string>> PostgresStore::GetSetting(std::string_view name) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(sql::kGetSetting.postgres(), Params().Add(name)));
  std::optional<std::string> value;
  if (r.rows() > 0) value = r.Text(0, 0);
  return value;
}

Result<std::string> PostgresStore::PutSettingIfAbsent(std::string_view name, std::string_view value) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  Transaction tx(*conn);
  ULAK_RETURN_IF_ERROR(tx.Begin());
  ULAK_RETURN_IF_ERROR(conn->Query(sql::kInsertSettingIfAbsent.postgres(),
                                   Params().Add(name).Add(value)).status());
  // A new statement sees a concurrent winner's row once its INSERT waited for it to commit.
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(sql::kGetSetting.postgres(), Params().Add(name)));
  if (r.rows() == 0) return Internal("setting vanished inside its transaction");
  std::string stored = r.Text(0, 0);
  ULAK_RETURN_IF_ERROR(tx.Commit());
  return stored;
}

Status PostgresStore::CreateOrganization(const Organization& org, const ApiKey& first_key) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  Transaction tx(*conn);
  ULAK_RETURN_IF_ERROR(tx.Begin());
  ULAK_RETURN_IF_ERROR(conn->Query(sql::kInsertOrganization.postgres(),
                                   Params().Add(org.id).Add(org.name).Add(ToUnixMillis(org.created_at))).status());
  ULAK_RETURN_IF_ERROR(InsertApiKey(*conn, first_key));
  return tx.Commit();
}

Result<Organization> PostgresStore::GetOrganization(std::string_view id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(sql::kGetOrganization.postgres(),
                                                Params().Add(id)));
  if (r.rows() == 0) return NotFound("organization " + std::string(id) + " not found");
  return ReadOrganization(r, 0);
}

Result<Page<Organization>> PostgresStore::ListOrganizations(const PageRequest& page) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  Params p;
  p.Add(page.after);
  AddLimit(p, static_cast<int64_t>(page.limit) + 1);
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(sql::kListOrganizations.postgres(), p));
  return ReadPage<Organization>(r, page, ReadOrganization, [](const Organization& o) { return o.id; });
}

Status PostgresStore::CreateApiKey(const ApiKey& key) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  return InsertApiKey(*conn, key);
}

Result<Page<ApiKey>> PostgresStore::ListApiKeys(std::string_view organization_id, const PageRequest& page) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  Params p;
  p.Add(organization_id).Add(page.after);
  AddLimit(p, static_cast<int64_t>(page.limit) + 1);
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(sql::kListApiKeys.postgres(), p));
  return ReadPage<ApiKey>(r, page, ReadApiKey, [](const ApiKey& k) { return k.id; });
}

Status PostgresStore::DeleteApiKey(std::string_view organization_id, std::string_view key_id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(sql::kDeleteApiKey.postgres(),
                                                Params().Add(key_id).Add(organization_id)));
  if (r.AffectedRows() == 0) return NotFound("API key " + std::string(key_id) + " not found");
  return Status::Ok();
}

Result<ApiKey> PostgresStore::FindApiKeyByHash(std::string_view key_hash) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(sql::kFindApiKeyByHash.postgres(),
      Params().Add(key_hash)));
  if (r.rows() == 0) return NotFound("no such API key");
  return ReadApiKey(r, 0);
}

}  // namespace ulak::store::postgres
