#include "store/sqlite/sqlite_store.h"

#include <filesystem>

#include "store/migration.h"
#include "store/sql/rows.h"
#include "store/sql/statements.h"
#include "store/sqlite/page.h"
#include "store/sqlite/sql_io.h"

namespace ulak::store::sqlite {
namespace {

Status InsertApiKey(Connection& conn, const ApiKey& key) {
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn.Prepare(sql::kInsertApiKey.sqlite()));
  st->Bind(1, key.id).Bind(2, key.organization_id).Bind(3, key.key_hash).Bind(4, key.prefix)
      .Bind(5, ToUnixMillis(key.created_at));
  return st->Run();
}

ApiKey ReadApiKey(const Statement& st) { return sql::ReadApiKey(SqliteRow(st)); }
Organization ReadOrganization(const Statement& st) { return sql::ReadOrganization(SqliteRow(st)); }

}  // namespace


Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path, int max_connections) {
  std::error_code ec;
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) return Unavailable("cannot create directory " + parent.string() + ": " + ec.message());
  std::unique_ptr<SqliteStore> store(new SqliteStore(path, max_connections < 1 ? 1 : max_connections));
  // Open one connection now so a bad path fails at start, not on the first request.
  ULAK_ASSIGN_OR_RETURN(auto conn, Connection::Open(path));
  ULAK_ASSIGN_OR_RETURN(store->identity_, IdentityOf(path));
  store->Release(std::move(conn));
  store->open_count_ = 1;
  return store;
}

SqliteStore::~SqliteStore() = default;

Result<SqliteStore::Lease> SqliteStore::Acquire() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(conn));
    }
    if (open_count_ < max_connections_) break;
    available_.wait(lock);
  }
  ++open_count_;
  lock.unlock();
  // A new connection would open whatever file the path names now: never a replacement.
  Status same = CheckSameFile(path_, identity_);
  Result<std::unique_ptr<Connection>> conn =
      same.ok() ? Connection::Open(path_) : Result<std::unique_ptr<Connection>>(same);
  if (!conn.ok()) {
    std::lock_guard relock(mu_);
    --open_count_;
    available_.notify_one();
    return conn.status();
  }
  return Lease(this, std::move(conn).value());
}

void SqliteStore::Release(std::unique_ptr<Connection> conn) {
  std::lock_guard lock(mu_);
  idle_.push_back(std::move(conn));
  available_.notify_one();
}

Status SqliteStore::Migrate() {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_RETURN_IF_ERROR(conn->Exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT"));
  for (const Migration& m : SqliteMigrations()) {
    WriteTransaction tx(*conn);
    ULAK_RETURN_IF_ERROR(tx.Begin());
    // Checked inside the write transaction, so two processes migrating at once apply each
    // version exactly once.
    ULAK_ASSIGN_OR_RETURN(Statement * check,
                          conn->Prepare(sql::kMigrationApplied.sqlite()));
    check->Bind(1, static_cast<int64_t>(m.version));
    ULAK_ASSIGN_OR_RETURN(bool applied, check->Step());
    check->Reset();
    if (applied) continue;
    Status s = conn->Exec(m.sql);
    if (!s.ok()) return Internal("migration " + std::string(m.name) + " failed: " + s.message());
    ULAK_ASSIGN_OR_RETURN(Statement * record, conn->Prepare(
        "INSERT INTO schema_migrations(version, name, applied_at) "
        "VALUES (?1, ?2, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))"));
    record->Bind(1, static_cast<int64_t>(m.version)).Bind(2, m.name);
    ULAK_RETURN_IF_ERROR(record->Run());
    ULAK_RETURN_IF_ERROR(tx.Commit());
  }
  ULAK_RETURN_IF_ERROR(FillIdempotencyKeys(*conn));
  return EnableIncrementalVacuum(*conn);
}

Result<int> SqliteStore::SchemaVersion() {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * exists, conn->Prepare(
      "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"));
  ULAK_ASSIGN_OR_RETURN(bool has_table, exists->Step());
  exists->Reset();
  if (!has_table) return 0;
  ULAK_ASSIGN_OR_RETURN(Statement * st,
                        conn->Prepare(sql::kSchemaVersion.sqlite()));
  ULAK_ASSIGN_OR_RETURN(bool row, st->Step());
  const int version = row ? static_cast<int>(st->ColumnInt(0)) : 0;
  st->Reset();
  return version;
}

Status SqliteStore::Ping() {
  ULAK_RETURN_IF_ERROR(CheckSameFile(path_, identity_));
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare("SELECT 1"));
  ULAK_ASSIGN_OR_RETURN(bool row, st->Step());
  st->Reset();
  return row ? Status::Ok() : Unavailable("SELECT 1 returned no row");
}

Result<std::optional<std::string>> SqliteStore::GetSetting(std::string_view name) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(sql::kGetSetting.sqlite()));
  st->Bind(1, name);
  ULAK_ASSIGN_OR_RETURN(bool row, st->Step());
  std::optional<std::string> value;
  if (row) value = st->ColumnText(0);
  st->Reset();
  return value;
}

Result<std::string> SqliteStore::PutSettingIfAbsent(std::string_view name, std::string_view value) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  WriteTransaction tx(*conn);
  ULAK_RETURN_IF_ERROR(tx.Begin());
  ULAK_ASSIGN_OR_RETURN(Statement * ins, conn->Prepare(sql::kInsertSettingIfAbsent.sqlite()));
  ins->Bind(1, name).Bind(2, value);
  ULAK_RETURN_IF_ERROR(ins->Run());
  ULAK_ASSIGN_OR_RETURN(Statement * sel, conn->Prepare(sql::kGetSetting.sqlite()));
  sel->Bind(1, name);
  ULAK_ASSIGN_OR_RETURN(bool row, sel->Step());
  if (!row) return Internal("setting vanished inside its transaction");
  std::string stored = sel->ColumnText(0);
  sel->Reset();
  ULAK_RETURN_IF_ERROR(tx.Commit());
  return stored;
}

Status SqliteStore::CreateOrganization(const Organization& org, const ApiKey& first_key) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  WriteTransaction tx(*conn);
  ULAK_RETURN_IF_ERROR(tx.Begin());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(sql::kInsertOrganization.sqlite()));
  st->Bind(1, org.id).Bind(2, org.name).Bind(3, ToUnixMillis(org.created_at));
  ULAK_RETURN_IF_ERROR(st->Run());
  ULAK_RETURN_IF_ERROR(InsertApiKey(*conn, first_key));
  return tx.Commit();
}

Result<Organization> SqliteStore::GetOrganization(std::string_view id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(sql::kGetOrganization.sqlite()));
  st->Bind(1, id);
  ULAK_ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) return NotFound("organization " + std::string(id) + " not found");
  Organization org = ReadOrganization(*st);
  st->Reset();
  return org;
}

Result<Page<Organization>> SqliteStore::ListOrganizations(const PageRequest& page) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(sql::kListOrganizations.sqlite()));
  st->Bind(1, page.after).Bind(2, static_cast<int64_t>(page.limit) + 1);
  auto out = ReadPage<Organization>(*st, page, ReadOrganization,
                                    [](const Organization& o) { return o.id; });
  st->Reset();
  return out;
}

Status SqliteStore::CreateApiKey(const ApiKey& key) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  return InsertApiKey(*conn, key);
}

Result<Page<ApiKey>> SqliteStore::ListApiKeys(std::string_view organization_id, const PageRequest& page) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(sql::kListApiKeys.sqlite()));
  st->Bind(1, organization_id).Bind(2, page.after).Bind(3, static_cast<int64_t>(page.limit) + 1);
  auto out = ReadPage<ApiKey>(*st, page, ReadApiKey, [](const ApiKey& k) { return k.id; });
  st->Reset();
  return out;
}

Status SqliteStore::DeleteApiKey(std::string_view organization_id, std::string_view key_id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(sql::kDeleteApiKey.sqlite()));
  st->Bind(1, key_id).Bind(2, organization_id);
  ULAK_RETURN_IF_ERROR(st->Run());
  if (conn->Changes() == 0) return NotFound("API key " + std::string(key_id) + " not found");
  return Status::Ok();
}

Result<ApiKey> SqliteStore::FindApiKeyByHash(std::string_view key_hash) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(sql::kFindApiKeyByHash.sqlite()));
  st->Bind(1, key_hash);
  ULAK_ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) return NotFound("no such API key");
  ApiKey key = ReadApiKey(*st);
  st->Reset();
  return key;
}

}  // namespace ulak::store::sqlite
