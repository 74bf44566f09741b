// PostgresStore: webhooks, events, deliveries and attempt logs.
#include <string>

#include "store/idempotency_key.h"
#include "store/postgres/delivery_rows.h"
#include "store/postgres/page.h"
#include "store/postgres/postgres_store.h"
#include "store/postgres/sql_io.h"
#include "store/sql/dialect.h"
#include "store/sql/outcomes.h"
#include "store/sql/rows.h"
#include "store/sql/statements.h"

namespace ulak::store::postgres {
namespace {

// The rows and most statements are shared with SQLite (store/sql/, written with ?N and
// rendered by sql::ForPostgres); what is left in this file is what PostgreSQL says
// differently: ON CONFLICT ... RETURNING to tell what an INSERT did, pg_notify for other
// nodes, GREATEST, COUNT(*) FILTER, NULL for "no LIMIT".
using sql::ForPostgres;

Webhook ReadWebhook(const PgResult& r, int row) { return sql::ReadWebhook(PgRow(r, row)); }
Event ReadEvent(const PgResult& r, int row) { return sql::ReadEvent(PgRow(r, row)); }

}  // namespace

Status PostgresStore::InsertDelivery(Connection& conn, const Delivery& d) {
  Params p;
  PgParams params(p);
  sql::WriteDelivery(params, d);
  return conn.Query(sql::kDeliveryInsert.postgres(), p).status();
}

Status PostgresStore::CreateWebhook(const Webhook& w) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  Params p;
  PgParams params(p);
  sql::WriteWebhookInsert(params, w);
  return conn->Query(sql::kWebhookInsert.postgres(), p).status();
}

Result<Webhook> PostgresStore::GetWebhook(std::string_view organization_id, std::string_view id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(sql::kGetWebhook.postgres(),
      Params().Add(id).Add(organization_id)));
  if (r.rows() == 0) return NotFound("Webhook " + std::string(id) + " not found.");
  return ReadWebhook(r, 0);
}

Result<Page<Webhook>> PostgresStore::ListWebhooks(std::string_view organization_id, const PageRequest& page) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  Params p;
  p.Add(organization_id).Add(page.after);
  AddLimit(p, static_cast<int64_t>(page.limit) + 1);
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(sql::kListWebhooks.postgres(), p));
  return ReadPage<Webhook>(r, page, ReadWebhook, [](const Webhook& w) { return w.id; });
}

Result<std::vector<Webhook>> PostgresStore::ListAllWebhooks(std::string_view organization_id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(sql::kListAllWebhooks.postgres(),
      Params().Add(organization_id)));
  return ReadAll<Webhook>(r, ReadWebhook);
}

Result<std::vector<Webhook>> PostgresStore::ListActiveWebhooks(std::string_view organization_id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(sql::kListActiveWebhooks.postgres(),
      Params().Add(organization_id)));
  return ReadAll<Webhook>(r, ReadWebhook);
}

Status PostgresStore::UpdateWebhook(const Webhook& w) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  Params p;
  PgParams params(p);
  sql::WriteWebhookUpdate(params, w);
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(sql::kWebhookUpdate.postgres(), p));
  if (r.AffectedRows() == 0) return NotFound("Webhook " + w.id + " not found.");
  return Status::Ok();
}

Status PostgresStore::DeleteWebhook(std::string_view organization_id, std::string_view id, TimePoint now) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  Transaction tx(*conn);
  ULAK_RETURN_IF_ERROR(tx.Begin());
  ULAK_ASSIGN_OR_RETURN(PgResult del, conn->Query(sql::kDeleteWebhook.postgres(),
      Params().Add(id).Add(organization_id).Add(ToUnixMillis(now))));
  if (del.AffectedRows() == 0) return NotFound("Webhook " + std::string(id) + " not found.");
  ULAK_RETURN_IF_ERROR(conn->Query(sql::kCancelOpenDeliveries.postgres(),
      Params().Add(id).Add(ToUnixMillis(now))).status());
  return tx.Commit();
}

Result<std::vector<PublishResult>> PostgresStore::Publish(const std::vector<PublishRequest>& requests) {
  return CommitBatch(requests, {});
}

Status PostgresStore::RecordOutcomes(const std::vector<AttemptOutcome>& outcomes) {
  return CommitBatch({}, outcomes).status();
}

// One transaction for both halves, as on SQLite: a failure of either rolls back both, so a
// retried batch never meets rows of its own earlier half (store.h's contract).
Result<std::vector<PublishResult>> PostgresStore::CommitBatch(const std::vector<PublishRequest>& requests,
                                                              const std::vector<AttemptOutcome>& outcomes) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  Transaction tx(*conn);
  ULAK_RETURN_IF_ERROR(tx.Begin());
  ULAK_RETURN_IF_ERROR(RecordOutcomesOn(*conn, outcomes));
  bool unclaimed_work = false;  // other nodes should hear of it
  ULAK_ASSIGN_OR_RETURN(std::vector<PublishResult> results, PublishOn(*conn, requests, unclaimed_work));
  if (unclaimed_work) ULAK_RETURN_IF_ERROR(conn->Query(std::string("SELECT pg_notify('") + kWorkChannel + "', '')").status());
  ULAK_RETURN_IF_ERROR(tx.Commit());
  return results;
}

// REQUIRES: inside a transaction on conn.
Result<std::vector<PublishResult>> PostgresStore::PublishOn(Connection& connection,
                                                            const std::vector<PublishRequest>& requests,
                                                            bool& unclaimed_work) {
  Connection* conn = &connection;
  // The unique index decides (ON CONFLICT), and RETURNING tells whether this INSERT did.
  static const std::string insert_event = sql::kInsertEvent.postgres() +
      " ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING id";
  std::vector<PublishResult> results;
  results.reserve(requests.size());
  for (const PublishRequest& req : requests) {
    const Event& e = req.event;
    // The unique index decides, not an earlier SELECT: a key inserted by this batch, by an
    // earlier commit or by another node's transaction in flight (the INSERT waits for it)
    // makes this INSERT do nothing, and the row is then read back.
    Params p;
    p.Add(e.id).Add(e.organization_id).Add(e.event_type);
    if (e.event_id.empty()) {
      p.AddNull();
    } else {
      p.Add(e.event_id);
    }
    p.AddBytes(e.payload).Add(static_cast<int64_t>(req.deliveries.size())).Add(ToUnixMillis(e.created_at));
    // De-duplicated by the compact key (store/idempotency_key.h); the texts confirm it.
    const std::string key = e.event_id.empty() ? std::string() : IdempotencyKey(e.organization_id, e.event_id);
    if (key.empty()) {
      p.AddNull();
    } else {
      p.AddBytes(key);
    }
    ULAK_ASSIGN_OR_RETURN(PgResult inserted, conn->Query(insert_event, p));
    if (inserted.rows() == 0) {
      ULAK_ASSIGN_OR_RETURN(PgResult found, conn->Query(sql::kFindEventByEventId.postgres(),
          Params().Add(e.organization_id).Add(e.event_id).AddBytes(key)));
      if (found.rows() == 0) return Internal("event " + e.event_id + " conflicted but cannot be read");
      results.push_back(PublishResult{ReadEvent(found, 0), true, {}});
      if (req.incoming) {
        IncomingRequest incoming = *req.incoming;
        incoming.status = IncomingStatus::kDuplicate;
        incoming.event_id = results.back().event.id;
        ULAK_RETURN_IF_ERROR(InsertIncoming(*conn, incoming));
      }
      continue;
    }
    for (const Delivery& d : req.deliveries) {
      ULAK_RETURN_IF_ERROR(InsertDelivery(*conn, d));
      unclaimed_work = unclaimed_work || d.claimed_by.empty();
    }
    if (req.incoming) {
      IncomingRequest incoming = *req.incoming;
      incoming.status = IncomingStatus::kAccepted;
      incoming.event_id = e.id;
      ULAK_RETURN_IF_ERROR(InsertIncoming(*conn, incoming, e.payload));
    }
    Event stored = e;
    stored.deliveries = static_cast<int>(req.deliveries.size());
    results.push_back(PublishResult{std::move(stored), false, req.deliveries});
  }
  return results;
}

// REQUIRES: inside a transaction on conn.
Status PostgresStore::RecordOutcomesOn(Connection& conn, const std::vector<AttemptOutcome>& outcomes) {
  static const std::string insert_sql = sql::kAttemptInsert.postgres() + " RETURNING id";
  const std::string& delivery_sql = sql::kOutcomeDeliveryUpdate.postgres();
  static const std::string touch_sql = ForPostgres(sql::WebhookTouchSql(sql::Dialect::kPostgres));
  sql::WebhookTouches touches;
  for (const AttemptOutcome& o : outcomes) {
    Params attempt;
    PgParams attempt_params(attempt);
    sql::WriteAttempt(attempt_params, o.attempt);
    ULAK_ASSIGN_OR_RETURN(PgResult inserted, conn.Query(insert_sql, attempt));
    // Idempotent: an attempt already stored (a batch retried after a commit that reported
    // failure) changes nothing, not even its delivery, which a later outcome may have moved on.
    if (inserted.rows() == 0) continue;
    Params delivery;
    PgParams delivery_params(delivery);
    sql::WriteOutcomeDelivery(delivery_params, o);
    ULAK_RETURN_IF_ERROR(conn.Query(delivery_sql, delivery).status());
    touches.Add(o);
  }
  // Webhook rows change once per batch, not once per outcome, in webhook id order (see
  // WebhookTouches: two nodes' batches never lock the same rows in opposite orders).
  for (const auto& [webhook_id, touch] : touches.by_webhook()) {
    Params p;
    PgParams params(p);
    sql::WriteWebhookTouch(params, webhook_id, touch);
    ULAK_RETURN_IF_ERROR(conn.Query(touch_sql, p).status());
  }
  return Status::Ok();
}

Result<std::vector<PendingDelivery>> PostgresStore::ListPendingDeliveries(std::string_view after, int limit) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  Params p;
  p.Add(after);
  AddLimit(p, limit);
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(sql::kListPendingDeliveries.postgres(), p));
  std::vector<PendingDelivery> out;
  out.reserve(static_cast<size_t>(r.rows()));
  for (int row = 0; row < r.rows(); ++row) out.push_back(ReadPending(r, row));
  return out;
}

Result<int64_t> PostgresStore::CancelPendingDeliveries(std::string_view webhook_id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(sql::kCancelPendingDeliveries.postgres(),
      Params().Add(webhook_id)));
  return r.AffectedRows();
}

Result<Event> PostgresStore::GetEvent(std::string_view organization_id, std::string_view id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(sql::kGetEvent.postgres(), Params().Add(id).Add(organization_id)));
  if (r.rows() == 0) return NotFound("Event " + std::string(id) + " not found.");
  return ReadEvent(r, 0);
}

Result<AttemptLog> PostgresStore::ListAttemptsWithStats(const AttemptFilter& filter) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  // REPEATABLE READ: both statements read the snapshot taken by the first, so the stats
  // describe exactly the rows the list came from.
  Transaction tx(*conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  ULAK_RETURN_IF_ERROR(tx.Begin());
  AttemptLog out;
  ULAK_ASSIGN_OR_RETURN(out.attempts, ListAttemptsOn(*conn, filter));
  ULAK_ASSIGN_OR_RETURN(out.stats, GetAttemptStatsOn(*conn, filter));
  ULAK_RETURN_IF_ERROR(tx.Commit());
  return out;
}

Result<std::vector<Attempt>> PostgresStore::ListAttempts(const AttemptFilter& filter) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  return ListAttemptsOn(*conn, filter);
}

Result<AttemptStats> PostgresStore::GetAttemptStats(const AttemptFilter& filter) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  return GetAttemptStatsOn(*conn, filter);
}

Result<std::vector<Attempt>> PostgresStore::ListAttemptsOn(Connection& conn, const AttemptFilter& filter) {
  int count = 0;
  const std::string where = sql::AttemptWhere(filter, true, &count);  // sets count: before it is read
  const std::string text = sql::kAttemptSelect + where + " ORDER BY a.id DESC LIMIT ?" + std::to_string(count + 1);
  Params p;
  PgParams params(p);
  sql::WriteAttemptFilter(params, filter, true);
  AddLimit(p, filter.limit);
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn.Query(ForPostgres(text), p));
  std::vector<Attempt> out;
  out.reserve(static_cast<size_t>(r.rows()));
  for (int row = 0; row < r.rows(); ++row) out.push_back(sql::ReadAttempt(PgRow(r, row)));
  return out;
}

Result<AttemptStats> PostgresStore::GetAttemptStatsOn(Connection& conn, const AttemptFilter& filter) {
  const std::string text =
      "SELECT COUNT(*), COUNT(*) FILTER (WHERE a.status = 'success'), COUNT(*) FILTER (WHERE a.status = 'failed'), "
      "COUNT(*) FILTER (WHERE a.status = 'retrying'), COALESCE(AVG(a.response_time_ms), 0)::float8 FROM attempts a" +
      sql::AttemptWhere(filter, false, nullptr);
  Params p;
  PgParams params(p);
  sql::WriteAttemptFilter(params, filter, false);
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn.Query(ForPostgres(text), p));
  AttemptStats stats;
  if (r.rows() > 0) {
    stats.total = r.Int(0, 0);
    stats.success = r.Int(0, 1);
    stats.failed = r.Int(0, 2);
    stats.retrying = r.Int(0, 3);
    stats.avg_response_time_ms = r.Double(0, 4);
  }
  return stats;
}

}  // namespace ulak::store::postgres
