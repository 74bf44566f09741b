#include "store/sqlite/connection.h"

#include <sqlite3.h>

namespace ulak::store::sqlite {

bool ConfigureSqliteProcess() {
  static const bool configured = [] {
    // sqlite3_config is only allowed before sqlite3_initialize; after it, it returns
    // SQLITE_MISUSE and changes nothing, which is harmless (these settings only save time).
    const bool memstatus = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
    const bool pagecache = sqlite3_config(SQLITE_CONFIG_PAGECACHE, nullptr, 0, 0) == SQLITE_OK;
    return memstatus && pagecache;
  }();
  return configured;
}

Status StatusFromSqlite(int rc, std::string_view context, sqlite3* db) {
  std::string msg(context);
  msg += ": ";
  msg += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return AlreadyExists(std::move(msg));
      }
      if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) return NotFound(std::move(msg));
      return InvalidArgument(std::move(msg));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
      return Unavailable(std::move(msg));
    default:
      return Internal(std::move(msg));
  }
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::Bind(int index, std::string_view text) {
  sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::BindBlob(int index, std::string_view bytes) {
  sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Statement& Statement::BindOptional(int index, const std::optional<std::string>& text) {
  return text ? Bind(index, std::string_view(*text)) : BindNull(index);
}

Result<bool> Statement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return StatusFromSqlite(sqlite3_extended_errcode(db_), "sqlite step", db_);
}

Status Statement::Run() {
  for (;;) {
    Result<bool> row = Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Ok();
  }
}

std::string Statement::ColumnText(int index) const {
  const auto* p = sqlite3_column_text(stmt_, index);
  const int n = sqlite3_column_bytes(stmt_, index);
  return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), n);
}

int64_t Statement::ColumnInt(int index) const { return sqlite3_column_int64(stmt_, index); }

double Statement::ColumnDouble(int index) const { return sqlite3_column_double(stmt_, index); }

bool Statement::ColumnIsNull(int index) const {
  return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path) {
  ConfigureSqliteProcess();
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status s = StatusFromSqlite(rc, "cannot open SQLite database " + path, db);
    sqlite3_close(db);
    return s;
  }
  sqlite3_extended_result_codes(db, 1);
  std::unique_ptr<Connection> conn(new Connection(db));
  // busy_timeout first, so the statements below wait for a writer instead of failing.
  ULAK_RETURN_IF_ERROR(conn->Exec("PRAGMA busy_timeout=5000;"));
  // A new file starts with auto_vacuum=INCREMENTAL, so retention can give pages back in
  // steps; it only takes hold before the first table (older files are converted once by
  // SqliteStore::Migrate), and is not touched otherwise (setting it writes the header).
  ULAK_ASSIGN_OR_RETURN(Statement * tables, conn->Prepare("SELECT COUNT(*) FROM sqlite_master"));
  ULAK_ASSIGN_OR_RETURN(bool row, tables->Step());
  const bool empty = row && tables->ColumnInt(0) == 0;
  tables->Reset();
  if (empty) ULAK_RETURN_IF_ERROR(conn->Exec("PRAGMA auto_vacuum=INCREMENTAL;"));
  // synchronous=FULL: a commit is on disk before it returns, so a 202 means durable.
  ULAK_RETURN_IF_ERROR(conn->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"));
  return conn;
}

Connection::~Connection() {
  statements_.clear();  // finalize before close
  sqlite3_close(db_);
}

Result<Statement*> Connection::Prepare(std::string_view sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) {
    it->second->Reset();
    return it->second.get();
  }
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return StatusFromSqlite(rc, "sqlite prepare", db_);
  auto owned = std::make_unique<Statement>(stmt, db_);
  Statement* raw = owned.get();
  statements_.emplace(std::string(sql), std::move(owned));
  return raw;
}

Status Connection::Run(std::string_view sql) {
  ULAK_ASSIGN_OR_RETURN(Statement * st, Prepare(sql));
  Status s = st->Run();
  // Reset at once: a finished COMMIT or BEGIN holds nothing, but a statement left unreset
  // after an error would keep its transaction state until the next Prepare.
  st->Reset();
  return s;
}

Status Connection::Exec(std::string_view sql) {
  char* err = nullptr;
  const std::string text(sql);
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    sqlite3_free(err);
    return StatusFromSqlite(sqlite3_extended_errcode(db_), "sqlite exec", db_);
  }
  return Status::Ok();
}

int64_t Connection::Changes() const { return sqlite3_changes64(db_); }

WriteTransaction::~WriteTransaction() {
  if (open_) (void)conn_.Exec("ROLLBACK");
}

Status WriteTransaction::Begin() {
  ULAK_RETURN_IF_ERROR(conn_.Run("BEGIN IMMEDIATE"));
  open_ = true;
  return Status::Ok();
}

Status WriteTransaction::Commit() {
  ULAK_RETURN_IF_ERROR(conn_.Run("COMMIT"));
  open_ = false;
  return Status::Ok();
}

}  // namespace ulak::store::sqlite
