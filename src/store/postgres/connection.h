// A thin RAII layer over one libpq connection: statements prepared once per connection
// (PQprepare under a generated name, then PQexecPrepared; QueryPlannedPerCall for the few
// whose plan must follow the table's size), parameters sent as text (raw
// bytes as binary BYTEA), results read as text, SQLSTATEs turned into Status. Not
// thread-safe: one thread uses a Connection at a time (PostgresStore hands them out from a
// pool). A connection that lost its server marks itself broken; the pool then drops it, so
// the next caller reconnects.
#pragma once

#include <cstdint>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"

struct pg_conn;
struct pg_result;

namespace ulak::store::postgres {

// The parameters of one statement, $1, $2, ... in the order they are added.
class Params {
 public:
  Params& Add(std::string_view text);
  Params& Add(int64_t value);
  Params& AddBool(bool value);
  Params& AddNull();
  // Raw bytes for a BYTEA column: sent in binary format, so NUL and invalid UTF-8 survive.
  Params& AddBytes(std::string_view bytes);
  // NULL when absent.
  Params& AddOptional(const std::optional<int64_t>& value);
  // The next placeholder's name ("$3"), for SQL built alongside its parameters.
  std::string NextPlaceholder() const { return "$" + std::to_string(values_.size() + 1); }
  int size() const { return static_cast<int>(values_.size()); }

 private:
  friend class Connection;
  std::vector<std::string> values_;
  std::vector<char> is_null_;
  std::vector<int> formats_;  // 0 text, 1 binary
};

// A query's result, owned. Rows and columns are 0-based.
class PgResult {
 public:
  explicit PgResult(pg_result* res);
  ~PgResult();
  PgResult(PgResult&& other) noexcept;
  PgResult& operator=(PgResult&& other) noexcept;
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;

  int rows() const;
  bool IsNull(int row, int col) const;
  std::string Text(int row, int col) const;
  int64_t Int(int row, int col) const;
  double Double(int row, int col) const;
  bool Bool(int row, int col) const;
  // Decodes a BYTEA column (text output, hex or escape format).
  std::string Bytes(int row, int col) const;
  // Rows an INSERT/UPDATE/DELETE touched.
  int64_t AffectedRows() const;

 private:
  pg_result* res_;
};

class Connection {
 public:
  // Connects with conninfo (a postgres:// URI or key=value string, one host or several:
  // `host=a,b`). Only a server that accepts writes is taken (target_session_attrs
  // read-write unless conninfo says otherwise). Unreachable or read-only server(s):
  // kUnavailable.
  static Result<std::unique_ptr<Connection>> Open(const std::string& conninfo);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs sql with params, preparing it on first use on this connection. sql must be a
  // single statement written with $N placeholders.
  Result<PgResult> Query(std::string_view sql, const Params& params = Params());
  // Runs sql with params parsed and planned for these values on every call (the unnamed
  // statement, still one round trip). For a statement whose best plan depends on how many
  // rows its arrays hold and how large its table has grown: a prepared statement's cached
  // generic plan, made while the table was small and not costed again until ANALYZE, joins
  // `unnest` to the table by a sequential scan every round where a few primary key
  // look-ups would do.
  Result<PgResult> QueryPlannedPerCall(std::string_view sql, const Params& params);
  // Runs sql unprepared, without parameters; may hold several statements (migrations,
  // BEGIN, COMMIT).
  Status Exec(std::string_view sql);

  // True once the connection is known to be unusable (server gone, protocol lost, or a
  // transaction left in an unknown state). The pool drops broken connections.
  bool broken() const { return broken_; }
  void MarkBroken() { broken_ = true; }
  // True when the connection is idle outside any transaction, i.e. fit to go back to the pool.
  bool IdleOutsideTransaction() const;
  // True inside a transaction a failed statement has aborted.
  bool InFailedTransaction() const;
  // For an idle pooled connection: reads, without blocking, whatever the server sent
  // meanwhile and reports whether the connection is still up. A server restart closes
  // every idle connection; this catches them before a caller's query fails on one.
  bool LooksAlive();
  // For a connection that ran LISTEN: waits up to timeout for a notification; true when one
  // (or more) arrived. Marks the connection broken if the server went away.
  bool WaitForNotification(std::chrono::milliseconds timeout);

 private:
  explicit Connection(pg_conn* conn) : conn_(conn) {}
  // Maps a failed result (res may be null) to a Status, marking the connection broken
  // when the failure means the session is gone.
  Status Fail(pg_result* res, std::string_view context);
  // REQUIRES: !broken_. Checks the text parameters; fills values and lengths for libpq.
  Status Prepare(const Params& params, std::vector<const char*>& values, std::vector<int>& lengths) const;
  // Takes a statement's result: the rows, or the failure as a Status.
  Result<PgResult> Finish(pg_result* res);

  pg_conn* conn_;
  bool broken_ = false;
  std::unordered_map<std::string, std::string> statement_names_;  // SQL text -> prepared name
};

// BEGIN ... COMMIT, rolled back on destruction unless committed.
class Transaction {
 public:
  // begin_sql: "BEGIN", or e.g. "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY".
  explicit Transaction(Connection& conn, std::string_view begin_sql = "BEGIN")
      : conn_(conn), begin_sql_(begin_sql) {}
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Status Begin();
  Status Commit();

 private:
  Connection& conn_;
  std::string_view begin_sql_;
  bool open_ = false;
};

}  // namespace ulak::store::postgres
