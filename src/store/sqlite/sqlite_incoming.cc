// SqliteStore: incoming sources and the incoming request log.
#include <optional>
#include <string>

#include "store/incoming_body.h"
#include "store/sqlite/page.h"
#include "store/sqlite/sqlite_store.h"

namespace ulak::store::sqlite {
namespace {

constexpr char kSourceColumns[] =
    "id, organization_id, name, provider, secrets, options, event_map, default_for_provider, is_active, "
    "rejected_count, created_at, updated_at";

Source ReadSource(const Statement& st) {
  Source s;
  s.id = st.ColumnText(0);
  s.organization_id = st.ColumnText(1);
  s.name = st.ColumnText(2);
  s.provider = st.ColumnText(3);
  s.secrets_json = st.ColumnText(4);
  s.options_json = st.ColumnText(5);
  s.event_map_json = st.ColumnText(6);
  s.default_for_provider = st.ColumnInt(7) != 0;
  s.is_active = st.ColumnInt(8) != 0;
  s.rejected_count = st.ColumnInt(9);
  s.created_at = FromUnixMillis(st.ColumnInt(10));
  s.updated_at = FromUnixMillis(st.ColumnInt(11));
  return s;
}


IncomingRequest ReadIncoming(const Statement& st) {
  IncomingRequest r;
  r.id = st.ColumnText(0);
  r.source_id = st.ColumnText(1);
  r.organization_id = st.ColumnText(2);
  r.status = ParseIncomingStatus(st.ColumnText(3)).value_or(IncomingStatus::kRejected);
  r.provider_event_id = st.ColumnText(4);
  r.event_type = st.ColumnText(5);
  r.event_id = st.ColumnText(6);
  r.headers_json = st.ColumnText(8);
  r.reason = st.ColumnText(9);
  r.created_at = FromUnixMillis(st.ColumnInt(10));
  if (st.ColumnIsNull(11)) {
    r.body = st.ColumnText(7);
  } else if (Result<std::string> body = ApplyBodyDelta(st.ColumnText(11), st.ColumnText(12)); body.ok()) {
    r.body = std::move(body).value();
  }  // else its event is gone (a damaged file): the body is shown empty
  return r;
}

}  // namespace

Status SqliteStore::InsertIncoming(Connection& conn, const IncomingRequest& r, std::string_view event_payload) {
  return InsertIncomingAs(conn, r, r.status, r.event_id, event_payload);
}

Status SqliteStore::InsertIncomingAs(Connection& conn, const IncomingRequest& r, IncomingStatus status,
                                     std::string_view event_id, std::string_view event_payload) {
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn.Prepare(
      "INSERT INTO incoming_requests(id, source_id, organization_id, status, provider_event_id, event_type, "
      "event_id, body, headers, reason, created_at, body_delta) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"));
  // Accepted: the body is rebuilt from the event created with it (incoming_body.h). Not for a
  // duplicate, whose event is older than it and may be pruned before it.
  std::optional<std::string> delta;
  if (status == IncomingStatus::kAccepted && !event_payload.empty()) delta = EncodeBodyDelta(r.body, event_payload);
  st->Bind(1, r.id).Bind(2, r.source_id).Bind(3, r.organization_id).Bind(4, IncomingStatusName(status))
      .Bind(5, r.provider_event_id).Bind(6, r.event_type);
  if (event_id.empty()) {
    st->BindNull(7);
  } else {
    st->Bind(7, event_id);
  }
  st->Bind(8, delta ? std::string_view("") : std::string_view(r.body)).Bind(9, r.headers_json).Bind(10, r.reason)
      .Bind(11, ToUnixMillis(r.created_at));
  if (delta) {
    st->BindBlob(12, *delta);
  } else {
    st->BindNull(12);
  }
  return st->Run();
}

Status SqliteStore::CreateSource(const Source& s) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(std::string("INSERT INTO sources(") + kSourceColumns +
      ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"));
  st->Bind(1, s.id).Bind(2, s.organization_id).Bind(3, s.name).Bind(4, s.provider).Bind(5, s.secrets_json)
      .Bind(6, s.options_json).Bind(7, s.event_map_json).Bind(8, int64_t{s.default_for_provider})
      .Bind(9, int64_t{s.is_active}).Bind(10, s.rejected_count).Bind(11, ToUnixMillis(s.created_at))
      .Bind(12, ToUnixMillis(s.updated_at));
  Status status = st->Run();
  if (status.code() == ErrorCode::kAlreadyExists && s.default_for_provider) {
    return AlreadyExists("Another source is already the default for provider " + s.provider + ".");
  }
  return status;
}

Result<Source> SqliteStore::GetSource(std::string_view organization_id, std::string_view id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(std::string("SELECT ") + kSourceColumns +
      " FROM sources WHERE id = ?1 AND (?2 = '' OR organization_id = ?2) AND deleted_at IS NULL"));
  st->Bind(1, id).Bind(2, organization_id);
  ULAK_ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) return NotFound("Source " + std::string(id) + " not found.");
  Source s = ReadSource(*st);
  st->Reset();
  return s;
}

Result<Source> SqliteStore::GetDefaultSource(std::string_view provider) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(std::string("SELECT ") + kSourceColumns +
      " FROM sources WHERE provider = ?1 AND default_for_provider = 1 AND deleted_at IS NULL"));
  st->Bind(1, provider);
  ULAK_ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) return NotFound("No source is the default for provider " + std::string(provider) + ".");
  Source s = ReadSource(*st);
  st->Reset();
  return s;
}

Result<Page<Source>> SqliteStore::ListSources(std::string_view organization_id, const PageRequest& page) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(std::string("SELECT ") + kSourceColumns +
      " FROM sources WHERE organization_id = ?1 AND deleted_at IS NULL AND id > ?2 ORDER BY id LIMIT ?3"));
  st->Bind(1, organization_id).Bind(2, page.after).Bind(3, static_cast<int64_t>(page.limit) + 1);
  auto out = ReadPage<Source>(*st, page, ReadSource, [](const Source& s) { return s.id; });
  st->Reset();
  return out;
}

Result<std::vector<Source>> SqliteStore::ListAllSources(std::string_view organization_id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(std::string("SELECT ") + kSourceColumns +
      " FROM sources WHERE (?1 = '' OR organization_id = ?1) AND deleted_at IS NULL ORDER BY id"));
  st->Bind(1, organization_id);
  return ReadAll<Source>(*st, ReadSource);
}

Status SqliteStore::UpdateSource(const Source& s) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(
      "UPDATE sources SET name = ?3, secrets = ?4, options = ?5, event_map = ?6, default_for_provider = ?7, "
      "is_active = ?8, updated_at = ?9 WHERE id = ?1 AND organization_id = ?2 AND deleted_at IS NULL"));
  st->Bind(1, s.id).Bind(2, s.organization_id).Bind(3, s.name).Bind(4, s.secrets_json).Bind(5, s.options_json)
      .Bind(6, s.event_map_json).Bind(7, int64_t{s.default_for_provider}).Bind(8, int64_t{s.is_active})
      .Bind(9, ToUnixMillis(s.updated_at));
  Status status = st->Run();
  if (status.code() == ErrorCode::kAlreadyExists) {
    return AlreadyExists("Another source is already the default for provider " + s.provider + ".");
  }
  ULAK_RETURN_IF_ERROR(status);
  if (conn->Changes() == 0) return NotFound("Source " + s.id + " not found.");
  return Status::Ok();
}

Status SqliteStore::DeleteSource(std::string_view organization_id, std::string_view id, TimePoint now) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(
      "UPDATE sources SET deleted_at = ?3, is_active = 0, default_for_provider = 0, updated_at = ?3 "
      "WHERE id = ?1 AND organization_id = ?2 AND deleted_at IS NULL"));
  st->Bind(1, id).Bind(2, organization_id).Bind(3, ToUnixMillis(now));
  ULAK_RETURN_IF_ERROR(st->Run());
  if (conn->Changes() == 0) return NotFound("Source " + std::string(id) + " not found.");
  return Status::Ok();
}

Status SqliteStore::RecordRejected(const IncomingRequest& request) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  WriteTransaction tx(*conn);
  ULAK_RETURN_IF_ERROR(tx.Begin());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(
      "UPDATE sources SET rejected_count = rejected_count + 1 WHERE id = ?1"));
  st->Bind(1, request.source_id);
  ULAK_RETURN_IF_ERROR(st->Run());
  IncomingRequest row = request;
  row.status = IncomingStatus::kRejected;
  row.body.clear();  // a rejected body is never kept
  ULAK_RETURN_IF_ERROR(InsertIncoming(*conn, row));
  return tx.Commit();
}

std::string ListIncomingSql(const IncomingFilter& f) {
  std::string sql =
      "SELECT r.id, r.source_id, r.organization_id, r.status, r.provider_event_id, r.event_type, "
      "COALESCE(r.event_id, ''), r.body, r.headers, r.reason, r.created_at, r.body_delta, e.payload "
      "FROM incoming_requests r LEFT JOIN events e ON r.body_delta IS NOT NULL AND e.id = r.event_id "
      "WHERE ";
  // One source's requests come from incoming_by_source (source_id, id); without the unary +
  // SQLite would pick incoming_by_organization and step over the organization's other sources.
  sql += f.source_id.empty() ? "r.organization_id = ?1" : "+r.organization_id = ?1 AND r.source_id = ?2";
  if (f.status) sql += " AND r.status = ?3";
  if (!f.before.empty()) sql += " AND r.id < ?4";
  sql += " ORDER BY r.id DESC LIMIT ?5";
  return sql;
}

Result<std::vector<IncomingRequest>> SqliteStore::ListIncoming(const IncomingFilter& f) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(ListIncomingSql(f)));
  st->Bind(1, f.organization_id);
  if (!f.source_id.empty()) st->Bind(2, f.source_id);
  if (f.status) st->Bind(3, IncomingStatusName(*f.status));
  if (!f.before.empty()) st->Bind(4, f.before);
  st->Bind(5, int64_t{f.limit});
  return ReadAll<IncomingRequest>(*st, ReadIncoming);
}

}  // namespace ulak::store::sqlite
