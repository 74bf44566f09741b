// A thin RAII layer over one sqlite3 connection: prepared statements cached by SQL text,
// SQLite result codes turned into Status. Not thread-safe: one thread uses a Connection at
// a time (SqliteStore hands them out from a pool).
#pragma once

#include <cstdint>
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

  // Returns the cached statement for sql, reset and ready to bind.
  Result<Statement*> Prepare(std::string_view sql);
  // Runs one or more statements with no parameters and no results (DDL, BEGIN, COMMIT).
  Status Exec(std::string_view sql);
  int64_t Changes() const;
  // The raw handle, for hooks (Checkpointer::Attach).
  sqlite3* handle() const { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<std::string, std::unique_ptr<Statement>> statements_;
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
