// PostgresStore: incoming sources and the incoming request log.
#include <optional>
#include <string>

#include "store/incoming_body.h"
#include "store/postgres/page.h"
#include "store/postgres/pg_columns.h"
#include "store/postgres/postgres_store.h"
#include "store/postgres/sql_io.h"

namespace ulak::store::postgres {
namespace {

constexpr char kSourceColumns[] =
    "id, organization_id, name, provider, secrets, options, event_map, default_for_provider, is_active, "
    "rejected_count, created_at, updated_at";

Source ReadSource(const PgResult& r, int row) {
  Source s;
  s.id = r.Text(row, 0);
  s.organization_id = r.Text(row, 1);
  s.name = r.Text(row, 2);
  s.provider = r.Text(row, 3);
  s.secrets_json = r.Text(row, 4);
  s.options_json = r.Text(row, 5);
  s.event_map_json = r.Text(row, 6);
  s.default_for_provider = r.Bool(row, 7);
  s.is_active = r.Bool(row, 8);
  s.rejected_count = r.Int(row, 9);
  s.created_at = FromUnixMillis(r.Int(row, 10));
  s.updated_at = FromUnixMillis(r.Int(row, 11));
  return s;
}

IncomingRequest ReadIncoming(const PgResult& r, int row) {
  IncomingRequest in;
  in.id = r.Text(row, 0);
  in.source_id = r.Text(row, 1);
  in.organization_id = r.Text(row, 2);
  in.status = ParseIncomingStatus(r.Text(row, 3)).value_or(IncomingStatus::kRejected);
  in.provider_event_id = r.Text(row, 4);
  in.event_type = r.Text(row, 5);
  in.event_id = r.Text(row, 6);
  in.headers_json = r.Bytes(row, 8);
  in.reason = r.Text(row, 9);
  in.created_at = FromUnixMillis(r.Int(row, 10));
  if (r.IsNull(row, 11)) {
    in.body = r.Bytes(row, 7);
  } else if (Result<std::string> body = ApplyBodyDelta(r.Bytes(row, 11), r.Bytes(row, 12)); body.ok()) {
    in.body = std::move(body).value();
  }  // else its event is gone (damaged data): the body is shown empty
  return in;
}

Status DefaultTaken(const Source& s) {
  return AlreadyExists("Another source is already the default for provider " + s.provider + ".");
}

}  // namespace

namespace {

constexpr char kIncomingColumns[] =
    "id, source_id, organization_id, status, provider_event_id, event_type, event_id, body, headers, reason, "
    "created_at, body_delta";

// One incoming_requests row, in kIncomingColumns' order: 12 values.
void WriteIncoming(sql::ParamWriter& w, const IncomingRequest& r, std::string_view event_payload) {
  // Accepted: the body is rebuilt from the event created with it (incoming_body.h). Not for a
  // duplicate, whose event is older than it and may be pruned before it.
  std::optional<std::string> delta;
  if (r.status == IncomingStatus::kAccepted && !event_payload.empty()) delta = EncodeBodyDelta(r.body, event_payload);
  w.Text(r.id).Text(r.source_id).Text(r.organization_id).Text(IncomingStatusName(r.status))
      .Text(r.provider_event_id).Text(r.event_type);
  if (r.event_id.empty()) {
    w.Null();
  } else {
    w.Text(r.event_id);
  }
  w.Bytes(delta ? std::string_view("") : std::string_view(r.body)).Bytes(r.headers_json).Text(r.reason)
      .Int(ToUnixMillis(r.created_at));
  if (delta) {
    w.Bytes(*delta);
  } else {
    w.Null();
  }
}

}  // namespace

Status PostgresStore::InsertIncoming(Connection& conn, const IncomingRequest& r, std::string_view event_payload) {
  Params p;
  PgParams w(p);
  WriteIncoming(w, r, event_payload);
  return conn.Query(std::string("INSERT INTO incoming_requests(") + kIncomingColumns +
                        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                    p)
      .status();
}

void PostgresStore::AddIncomingRow(PgColumns& rows, const IncomingRequest& r, std::string_view event_payload) {
  WriteIncoming(rows, r, event_payload);
  rows.EndRow();
}

Status PostgresStore::InsertIncomingRows(Connection& conn, const PgColumns& rows) {
  if (rows.rows() == 0) return Status::Ok();
  static const std::string insert = std::string("INSERT INTO incoming_requests(") + kIncomingColumns +
                                    ") SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], "
                                    "$5::text[], $6::text[], $7::text[], $8::bytea[], $9::bytea[], $10::text[], "
                                    "$11::bigint[], $12::bytea[])";
  return conn.Query(insert, rows.AsParams()).status();
}

Status PostgresStore::CreateSource(const Source& s) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  Params p;
  p.Add(s.id).Add(s.organization_id).Add(s.name).Add(s.provider).Add(s.secrets_json).Add(s.options_json)
      .Add(s.event_map_json).AddBool(s.default_for_provider).AddBool(s.is_active).Add(s.rejected_count)
      .Add(ToUnixMillis(s.created_at)).Add(ToUnixMillis(s.updated_at));
  Status status = conn->Query(std::string("INSERT INTO sources(") + kSourceColumns +
                                  ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)", p)
                      .status();
  if (status.code() == ErrorCode::kAlreadyExists && s.default_for_provider) return DefaultTaken(s);
  return status;
}

Result<Source> PostgresStore::GetSource(std::string_view organization_id, std::string_view id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(std::string("SELECT ") + kSourceColumns +
      " FROM sources WHERE id = $1 AND ($2 = '' OR organization_id = $2) AND deleted_at IS NULL",
      Params().Add(id).Add(organization_id)));
  if (r.rows() == 0) return NotFound("Source " + std::string(id) + " not found.");
  return ReadSource(r, 0);
}

Result<Source> PostgresStore::GetDefaultSource(std::string_view provider) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(std::string("SELECT ") + kSourceColumns +
      " FROM sources WHERE provider = $1 AND default_for_provider AND deleted_at IS NULL", Params().Add(provider)));
  if (r.rows() == 0) return NotFound("No source is the default for provider " + std::string(provider) + ".");
  return ReadSource(r, 0);
}

Result<Page<Source>> PostgresStore::ListSources(std::string_view organization_id, const PageRequest& page) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  Params p;
  p.Add(organization_id).Add(page.after);
  AddLimit(p, static_cast<int64_t>(page.limit) + 1);
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(std::string("SELECT ") + kSourceColumns +
      " FROM sources WHERE organization_id = $1 AND deleted_at IS NULL AND id > $2 ORDER BY id LIMIT $3", p));
  return ReadPage<Source>(r, page, ReadSource, [](const Source& s) { return s.id; });
}

Result<std::vector<Source>> PostgresStore::ListAllSources(std::string_view organization_id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(std::string("SELECT ") + kSourceColumns +
      " FROM sources WHERE ($1 = '' OR organization_id = $1) AND deleted_at IS NULL ORDER BY id",
      Params().Add(organization_id)));
  return ReadAll<Source>(r, ReadSource);
}

Status PostgresStore::UpdateSource(const Source& s) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  Params p;
  p.Add(s.id).Add(s.organization_id).Add(s.name).Add(s.secrets_json).Add(s.options_json).Add(s.event_map_json)
      .AddBool(s.default_for_provider).AddBool(s.is_active).Add(ToUnixMillis(s.updated_at));
  Result<PgResult> r = conn->Query(
      "UPDATE sources SET name = $3, secrets = $4, options = $5, event_map = $6, default_for_provider = $7, "
      "is_active = $8, updated_at = $9 WHERE id = $1 AND organization_id = $2 AND deleted_at IS NULL", p);
  if (!r.ok() && r.status().code() == ErrorCode::kAlreadyExists) return DefaultTaken(s);
  ULAK_RETURN_IF_ERROR(r.status());
  if (r->AffectedRows() == 0) return NotFound("Source " + s.id + " not found.");
  return Status::Ok();
}

Status PostgresStore::DeleteSource(std::string_view organization_id, std::string_view id, TimePoint now) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(
      "UPDATE sources SET deleted_at = $3, is_active = FALSE, default_for_provider = FALSE, updated_at = $3 "
      "WHERE id = $1 AND organization_id = $2 AND deleted_at IS NULL",
      Params().Add(id).Add(organization_id).Add(ToUnixMillis(now))));
  if (r.AffectedRows() == 0) return NotFound("Source " + std::string(id) + " not found.");
  return Status::Ok();
}

Status PostgresStore::RecordRejected(const IncomingRequest& request) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  Transaction tx(*conn);
  ULAK_RETURN_IF_ERROR(tx.Begin());
  ULAK_RETURN_IF_ERROR(conn->Query("UPDATE sources SET rejected_count = rejected_count + 1 WHERE id = $1",
                                   Params().Add(request.source_id)).status());
  IncomingRequest row = request;
  row.status = IncomingStatus::kRejected;
  row.body.clear();  // a rejected body is never kept
  ULAK_RETURN_IF_ERROR(InsertIncoming(*conn, row));
  return tx.Commit();
}

Result<std::vector<IncomingRequest>> PostgresStore::ListIncoming(const IncomingFilter& f) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  Params p;
  std::string sql =
      "SELECT r.id, r.source_id, r.organization_id, r.status, r.provider_event_id, r.event_type, "
      "COALESCE(r.event_id, ''), r.body, r.headers, r.reason, r.created_at, r.body_delta, e.payload "
      "FROM incoming_requests r LEFT JOIN events e ON r.body_delta IS NOT NULL AND e.id = r.event_id "
      "WHERE r.organization_id = " + p.NextPlaceholder();
  p.Add(f.organization_id);
  if (!f.source_id.empty()) {
    sql += " AND r.source_id = " + p.NextPlaceholder();
    p.Add(f.source_id);
  }
  if (f.status) {
    sql += " AND r.status = " + p.NextPlaceholder();
    p.Add(IncomingStatusName(*f.status));
  }
  if (!f.before.empty()) {
    sql += " AND r.id < " + p.NextPlaceholder();
    p.Add(f.before);
  }
  sql += " ORDER BY r.id DESC LIMIT " + p.NextPlaceholder();
  AddLimit(p, f.limit);
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(sql, p));
  return ReadAll<IncomingRequest>(r, ReadIncoming);
}

}  // namespace ulak::store::postgres
