#include "store/postgres/connection.h"

#include <libpq-fe.h>
#include <poll.h>

#include <cstdlib>
#include <cstring>

namespace ulak::store::postgres {
namespace {

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// True for SQLSTATEs after which the session is gone: connection exceptions (class 08),
// the server shutting down or refusing connections (57P01..57P03), and a write refused
// because the server is read-only (25006): a session opened on a primary that has since
// been demoted, or one whose conninfo asked for any server. Such a session is of no more
// use to ulak; dropped, the next connect finds the server that accepts writes.
bool SessionLost(std::string_view sqlstate) {
  return StartsWith(sqlstate, "08") || sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03" ||
         sqlstate == "25006";
}

// libpq's messages end with a newline; Status messages do not.
std::string Trimmed(const char* message) {
  std::string s = message != nullptr ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

Params& Params::Add(std::string_view text) {
  values_.emplace_back(text);
  is_null_.push_back(0);
  formats_.push_back(0);
  return *this;
}

Params& Params::Add(int64_t value) { return Add(std::string_view(std::to_string(value))); }

Params& Params::AddBool(bool value) { return Add(std::string_view(value ? "t" : "f")); }

Params& Params::AddNull() {
  values_.emplace_back();
  is_null_.push_back(1);
  formats_.push_back(0);
  return *this;
}

Params& Params::AddBytes(std::string_view bytes) {
  values_.emplace_back(bytes);
  is_null_.push_back(0);
  formats_.push_back(1);
  return *this;
}

Params& Params::AddOptional(const std::optional<int64_t>& value) { return value ? Add(*value) : AddNull(); }

PgResult::PgResult(pg_result* res) : res_(res) {}

PgResult::~PgResult() {
  if (res_ != nullptr) PQclear(res_);
}

PgResult::PgResult(PgResult&& other) noexcept : res_(other.res_) { other.res_ = nullptr; }

PgResult& PgResult::operator=(PgResult&& other) noexcept {
  if (this != &other) {
    if (res_ != nullptr) PQclear(res_);
    res_ = other.res_;
    other.res_ = nullptr;
  }
  return *this;
}

int PgResult::rows() const { return res_ != nullptr ? PQntuples(res_) : 0; }

bool PgResult::IsNull(int row, int col) const { return PQgetisnull(res_, row, col) != 0; }

std::string PgResult::Text(int row, int col) const {
  return std::string(PQgetvalue(res_, row, col), static_cast<size_t>(PQgetlength(res_, row, col)));
}

int64_t PgResult::Int(int row, int col) const { return std::strtoll(PQgetvalue(res_, row, col), nullptr, 10); }

double PgResult::Double(int row, int col) const { return std::strtod(PQgetvalue(res_, row, col), nullptr); }

bool PgResult::Bool(int row, int col) const { return PQgetvalue(res_, row, col)[0] == 't'; }

std::string PgResult::Bytes(int row, int col) const {
  if (IsNull(row, col)) return std::string();
  size_t length = 0;
  unsigned char* raw =
      PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(res_, row, col)), &length);
  if (raw == nullptr) return std::string();  // out of memory: nothing better to return
  std::string out(reinterpret_cast<const char*>(raw), length);
  PQfreemem(raw);
  return out;
}

int64_t PgResult::AffectedRows() const {
  const char* n = res_ != nullptr ? PQcmdTuples(res_) : "";
  return n[0] == '\0' ? 0 : std::strtoll(n, nullptr, 10);
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& conninfo) {
  // Defaults first: the conninfo (expanded from "dbname") comes last and overrides them.
  // connect_timeout bounds a connect to a host that does not answer; without it a caller
  // could wait for the kernel's TCP timeout. target_session_attrs=read-write: every part
  // of ulak writes, so a session on a read-only server (a hot standby, a primary not yet
  // promoted) is refused at connect; with several hosts (`host=a,b`) libpq tries each in
  // turn and keeps the one that accepts writes, which is how a failover is followed.
  const char* keywords[] = {"connect_timeout", "application_name", "client_encoding", "target_session_attrs",
                            "dbname", nullptr};
  const char* values[] = {"5", "ulak", "UTF8", "read-write", conninfo.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr) return Unavailable("cannot allocate a PostgreSQL connection");
  if (PQstatus(conn) != CONNECTION_OK) {
    Status s = Unavailable("cannot connect to PostgreSQL: " + Trimmed(PQerrorMessage(conn)));
    PQfinish(conn);
    return s;
  }
  return std::unique_ptr<Connection>(new Connection(conn));
}

Connection::~Connection() { PQfinish(conn_); }

Status Connection::Fail(pg_result* res, std::string_view context) {
  PgResult owned(res);  // freed on return
  const char* state = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  const std::string_view sqlstate = state != nullptr ? state : "";
  std::string msg(context);
  msg += ": ";
  msg += Trimmed(res != nullptr ? PQresultErrorMessage(res) : PQerrorMessage(conn_));
  if (msg.size() == context.size() + 2) msg += Trimmed(PQerrorMessage(conn_));

  if (PQstatus(conn_) != CONNECTION_OK || SessionLost(sqlstate)) {
    broken_ = true;
    return Unavailable(std::move(msg));
  }
  if (sqlstate.empty()) {
    // A client-side failure (out of memory, protocol confusion): the session's state is
    // unknown, so it is not reused.
    broken_ = true;
    return Internal(std::move(msg));
  }
  if (sqlstate == "23505") return AlreadyExists(std::move(msg));
  if (sqlstate == "23503") return NotFound(std::move(msg));
  if (StartsWith(sqlstate, "23")) return InvalidArgument(std::move(msg));  // NOT NULL, CHECK
  // Data exceptions: text that is not valid UTF-8, numbers out of range.
  if (StartsWith(sqlstate, "22")) return InvalidArgument(std::move(msg));
  // Transient: serialization failure, deadlock, lock timeout, statement timeout/cancel,
  // too many connections, disk full.
  if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03" || sqlstate == "57014" ||
      StartsWith(sqlstate, "53")) {
    return Unavailable(std::move(msg));
  }
  return Internal(std::move(msg));
}

Status Connection::Prepare(const Params& params, std::vector<const char*>& values,
                           std::vector<int>& lengths) const {
  // A text parameter goes to libpq as a C string: a NUL inside would silently cut it.
  for (size_t i = 0; i < params.values_.size(); ++i) {
    if (params.formats_[i] == 0 && params.values_[i].find('\0') != std::string::npos) {
      return InvalidArgument("text parameter $" + std::to_string(i + 1) + " contains a NUL byte");
    }
  }
  const int n = params.size();
  values.resize(n);
  lengths.resize(n);
  for (int i = 0; i < n; ++i) {
    values[i] = params.is_null_[i] ? nullptr : params.values_[i].c_str();
    lengths[i] = static_cast<int>(params.values_[i].size());
  }
  return Status::Ok();
}

Result<PgResult> Connection::Finish(pg_result* res) {
  const ExecStatusType status = res != nullptr ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) return Fail(res, "PostgreSQL query");
  return PgResult(res);
}

Result<PgResult> Connection::QueryPlannedPerCall(std::string_view sql, const Params& params) {
  if (broken_) return Unavailable("PostgreSQL connection is broken");
  std::vector<const char*> values;
  std::vector<int> lengths;
  ULAK_RETURN_IF_ERROR(Prepare(params, values, lengths));
  const std::string text(sql);
  return Finish(PQexecParams(conn_, text.c_str(), params.size(), /*paramTypes=*/nullptr, values.data(),
                             lengths.data(), params.formats_.data(), /*resultFormat=*/0));
}

Result<PgResult> Connection::Query(std::string_view sql, const Params& params) {
  if (broken_) return Unavailable("PostgreSQL connection is broken");
  std::vector<const char*> values;
  std::vector<int> lengths;
  ULAK_RETURN_IF_ERROR(Prepare(params, values, lengths));
  std::string key(sql);
  auto it = statement_names_.find(key);
  if (it == statement_names_.end()) {
    std::string name = "ulak_" + std::to_string(statement_names_.size() + 1);
    PGresult* prepared = PQprepare(conn_, name.c_str(), key.c_str(), 0, nullptr);
    if (prepared == nullptr || PQresultStatus(prepared) != PGRES_COMMAND_OK) {
      return Fail(prepared, "PostgreSQL prepare");
    }
    PQclear(prepared);
    it = statement_names_.emplace(std::move(key), std::move(name)).first;
  }

  return Finish(PQexecPrepared(conn_, it->second.c_str(), params.size(), values.data(), lengths.data(),
                               params.formats_.data(), /*resultFormat=*/0));
}

Status Connection::Exec(std::string_view sql) {
  if (broken_) return Unavailable("PostgreSQL connection is broken");
  const std::string text(sql);
  PGresult* res = PQexec(conn_, text.c_str());
  const ExecStatusType status = res != nullptr ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) return Fail(res, "PostgreSQL exec");
  PQclear(res);
  return Status::Ok();
}

bool Connection::IdleOutsideTransaction() const { return PQtransactionStatus(conn_) == PQTRANS_IDLE; }

bool Connection::InFailedTransaction() const { return PQtransactionStatus(conn_) == PQTRANS_INERROR; }

bool Connection::LooksAlive() {
  if (broken_ || PQstatus(conn_) != CONNECTION_OK) return false;
  // Nothing should arrive on an idle connection but notices; readable usually means the
  // server said goodbye and closed the socket. Reading until it would block either finds
  // the end of the stream (libpq then reports CONNECTION_BAD) or only notices.
  for (int i = 0; i < 8; ++i) {
    pollfd pfd{PQsocket(conn_), POLLIN, 0};
    if (pfd.fd < 0) return false;
    const int ready = poll(&pfd, 1, 0);
    if (ready == 0) return true;
    if (ready < 0 || (pfd.revents & (POLLERR | POLLNVAL)) != 0) return false;
    if (PQconsumeInput(conn_) == 0 || PQstatus(conn_) != CONNECTION_OK) return false;
  }
  // Still readable after several reads: a peer that keeps talking to an idle session is
  // not one to trust.
  return false;
}

Transaction::~Transaction() {
  if (!open_) return;
  // A connection left inside a transaction must never go back to the pool.
  if (!conn_.Exec("ROLLBACK").ok()) conn_.MarkBroken();
}

Status Transaction::Begin() {
  ULAK_RETURN_IF_ERROR(conn_.Exec(begin_sql_));
  open_ = true;
  return Status::Ok();
}

Status Transaction::Commit() {
  if (!open_) return Internal("PostgreSQL COMMIT without an open transaction");
  // PostgreSQL answers COMMIT after a failed statement with a silent ROLLBACK; callers
  // return on the first error, so this is a bug, reported rather than hidden. The
  // destructor rolls back.
  if (conn_.InFailedTransaction()) return Internal("PostgreSQL transaction failed earlier; not committed");
  open_ = false;
  Status s = conn_.Exec("COMMIT");
  if (!s.ok() && !conn_.IdleOutsideTransaction()) conn_.MarkBroken();
  return s;
}

bool Connection::WaitForNotification(std::chrono::milliseconds timeout) {
  auto drain = [this] {
    bool any = false;
    while (PGnotify* n = PQnotifies(conn_)) {
      PQfreemem(n);
      any = true;
    }
    return any;
  };
  if (drain()) return true;
  pollfd pfd{PQsocket(conn_), POLLIN, 0};
  if (pfd.fd < 0) {
    broken_ = true;
    return false;
  }
  if (poll(&pfd, 1, static_cast<int>(timeout.count())) <= 0) return false;
  if (PQconsumeInput(conn_) != 1 || PQstatus(conn_) != CONNECTION_OK) {
    broken_ = true;
    return false;
  }
  return drain();
}

}  // namespace ulak::store::postgres
