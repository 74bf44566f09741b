// A thin RAII layer over one sqlite3 connection: prepared statements cached by SQL text,
// SQLite result codes turned into Status. The first Open() also sets SQLite's process-wide
// configuration (ConfigureSqliteProcess below). Not thread-safe: one thread uses a Connection at
// a time (SqliteStore hands them out from a pool).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace ulak::store::sqlite {

// Maps a SQLite result code to a Status (kAlreadyExists for unique violations, kUnavailable
// for busy/locked/full/I/O, kInternal otherwise).
Status StatusFromSqlite(int rc, std::string_view context, sqlite3* db);

// Process-wide SQLite settings, applied once before SQLite initializes (the first Open() calls
// it; a later call, or one after SQLite was initialized elsewhere, changes nothing):
// - no memory statistics (SQLITE_CONFIG_MEMSTATUS 0): with them every sqlite3_malloc and
//   sqlite3_free takes one global mutex, shared by every connection of every thread;
// - no bulk page-cache allocation (SQLITE_CONFIG_PAGECACHE 0, 0, 0): each pager otherwise
//   mallocs 20 pages (~86 KB) up front, and every statement that checks a partial index's
//   `status IN (...)` opens such a pager for a temporary table and frees it again (glibc
//   gives that memory back to the kernel and page-faults it in the next time).
// Returns true when the settings took effect.
bool ConfigureSqliteProcess();

class Statement {
 public:
  explicit Statement(sqlite3_stmt* stmt, sqlite3* db) : stmt_(stmt), db_(db) {}
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binding is 1-based, like SQLite.
  Statement& Bind(int index, std::string_view text);
  Statement& Bind(int index, int64_t value);
  Statement& BindNull(int index);
  Statement& BindBlob(int index, std::string_view bytes);
  Statement& BindOptional(int index, const std::optional<std::string>& text);

  // Steps once: true when a row is ready, false when done.
  Result<bool> Step();
  // Steps to completion, expecting no rows.
  Status Run();

  std::string ColumnText(int index) const;
  int64_t ColumnInt(int index) const;
  double ColumnDouble(int index) const;
  bool ColumnIsNull(int index) const;

  // Clears bindings and resets, ready for reuse. Called when the statement is handed out.
  void Reset();

 private:
  sqlite3_stmt* stmt_;
  sqlite3* db_;
};

class Connection {
 public:
  // Opens (creating if needed) the file, sets WAL, synchronous=FULL, foreign keys and a
  // busy timeout.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Returns the cached statement for sql, reset and ready to bind. The lookup does not copy
  // sql (heterogeneous lookup): only a statement seen for the first time is stored.
  Result<Statement*> Prepare(std::string_view sql);
  // Runs one statement with no parameters and no results through the statement cache (BEGIN
  // IMMEDIATE, COMMIT: parsed once per connection, not once per call as Exec does).
  // REQUIRES: sql is one statement whose effect happens when it runs, not when it is prepared
  // (not a PRAGMA that sets something: those act at prepare time; use Exec for them).
  Status Run(std::string_view sql);
  // Runs one or more statements with no parameters and no results (DDL, BEGIN, COMMIT).
  Status Exec(std::string_view sql);
  int64_t Changes() const;
  // The raw handle, for hooks (Checkpointer::Attach).
  sqlite3* handle() const { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  // Transparent hash and equality: find() takes a string_view without building a string.
  struct SqlHash {
    using is_transparent = void;
    size_t operator()(std::string_view sql) const { return std::hash<std::string_view>{}(sql); }
  };
  sqlite3* db_;
  std::unordered_map<std::string, std::unique_ptr<Statement>, SqlHash, std::equal_to<>> statements_;
};

// synchronous=NORMAL for the commits made while it lives, FULL again after: such a commit
// survives the process being killed, not a power cut, until the next FULL commit syncs the WAL.
class RelaxedSync {
 public:
  explicit RelaxedSync(Connection& conn) : conn_(conn) { (void)conn_.Exec("PRAGMA synchronous=NORMAL"); }
  ~RelaxedSync() { (void)conn_.Exec("PRAGMA synchronous=FULL"); }
  RelaxedSync(const RelaxedSync&) = delete;
  RelaxedSync& operator=(const RelaxedSync&) = delete;

 private:
  Connection& conn_;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back on destruction unless committed. IMMEDIATE takes
// the write lock up front, so two writers never deadlock upgrading a read lock.
class WriteTransaction {
 public:
  explicit WriteTransaction(Connection& conn) : conn_(conn) {}
  ~WriteTransaction();
  Status Begin();
  Status Commit();

 private:
  Connection& conn_;
  bool open_ = false;
};

}  // namespace ulak::store::sqlite
