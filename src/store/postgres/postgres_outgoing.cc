// PostgresStore: webhooks, events, deliveries and attempt logs.
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "store/idempotency_key.h"
#include "store/postgres/delivery_rows.h"
#include "store/postgres/page.h"
#include "store/postgres/pg_columns.h"
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
// nodes, GREATEST, COUNT(*) FILTER, NULL for "no LIMIT", and a writer round's rows sent as
// arrays, one statement per kind (pg_columns.h).
using sql::ForPostgres;

Webhook ReadWebhook(const PgResult& r, int row) { return sql::ReadWebhook(PgRow(r, row)); }
Event ReadEvent(const PgResult& r, int row) { return sql::ReadEvent(PgRow(r, row)); }

// The ids an `INSERT ... ON CONFLICT DO NOTHING RETURNING id` inserted (the others conflicted).
std::unordered_set<std::string> IdsReturned(const PgResult& r) {
  std::unordered_set<std::string> ids;
  for (int row = 0; row < r.rows(); ++row) ids.insert(r.Text(row, 0));
  return ids;
}

// An event's identity as its publisher gave it: organization and event_id.
std::string DuplicateKey(std::string_view organization_id, std::string_view event_id) {
  std::string key(organization_id);
  key += '\0';
  key += event_id;
  return key;
}

// The events a publish batch duplicated (requests whose id is not in `inserted`: their key was
// taken), read back with one statement, by DuplicateKey. keys[i]: requests[i]'s compact key.
Result<std::unordered_map<std::string, Event>> ReadDuplicatedEvents(Connection& conn,
                                                                    const std::vector<PublishRequest>& requests,
                                                                    const std::vector<std::string>& keys,
                                                                    const std::unordered_set<std::string>& inserted) {
  std::unordered_map<std::string, Event> out;
  PgColumns wanted(1);
  for (size_t i = 0; i < requests.size(); ++i) {
    if (inserted.count(requests[i].event.id) != 0 || keys[i].empty()) continue;
    wanted.Bytes(keys[i]);
    wanted.EndRow();
  }
  if (wanted.rows() == 0) return out;
  // The compact key finds the rows (its unique index); the texts confirm them.
  static const std::string select = std::string("SELECT ") + sql::kEventColumns +
                                    " FROM events WHERE idempotency_key = ANY($1::bytea[])";
  ULAK_ASSIGN_OR_RETURN(PgResult found, conn.Query(select, wanted.AsParams()));
  for (int row = 0; row < found.rows(); ++row) {
    Event e = ReadEvent(found, row);
    std::string key = DuplicateKey(e.organization_id, e.event_id);
    out.emplace(std::move(key), std::move(e));
  }
  return out;
}

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
// One INSERT each for the batch's events, their deliveries and the incoming requests they came
// from (incoming webhooks), and one SELECT reading back the events the batch duplicated,
// whatever the batch's size (multi-row statements over unnest, pg_columns.h).
Result<std::vector<PublishResult>> PostgresStore::PublishOn(Connection& conn,
                                                            const std::vector<PublishRequest>& requests,
                                                            bool& unclaimed_work) {
  if (requests.empty()) return std::vector<PublishResult>();
  // The unique index decides (ON CONFLICT), not an earlier SELECT: a key inserted earlier in
  // this statement (DO NOTHING skips a row whose key an earlier row of the same INSERT took),
  // by an earlier commit or by another node's transaction in flight (the INSERT waits for
  // it) makes its row do nothing; RETURNING names the rows inserted, and the others are
  // read back.
  static const std::string insert_events =
      "INSERT INTO events(id, organization_id, event_type, event_id, payload, deliveries, created_at, "
      "idempotency_key) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[], "
      "$6::integer[], $7::bigint[], $8::bytea[]) "
      "ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING id";
  static const std::string insert_deliveries =
      "INSERT INTO deliveries(id, event_id, webhook_id, organization_id, status, attempts, next_attempt_at, "
      "created_at, updated_at, claimed_by, lease_until) "
      "SELECT id, event_id, webhook_id, organization_id, status, attempts, next_attempt_at, created_at, created_at, "
      "claimed_by, lease_until FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], "
      "$6::integer[], $7::bigint[], $8::bigint[], $9::text[], $10::bigint[]) "
      "AS u(id, event_id, webhook_id, organization_id, status, attempts, next_attempt_at, created_at, claimed_by, "
      "lease_until)";
  PgColumns events(8);
  std::vector<std::string> keys;  // the compact de-duplication key of each request, "" for none
  keys.reserve(requests.size());
  for (const PublishRequest& req : requests) {
    const Event& e = req.event;
    // De-duplicated by the compact key (store/idempotency_key.h); the texts confirm it.
    keys.push_back(e.event_id.empty() ? std::string() : IdempotencyKey(e.organization_id, e.event_id));
    events.Text(e.id).Text(e.organization_id).Text(e.event_type);
    if (e.event_id.empty()) {
      events.Null();
    } else {
      events.Text(e.event_id);
    }
    events.Bytes(e.payload).Int(static_cast<int64_t>(req.deliveries.size())).Time(e.created_at);
    if (keys.back().empty()) {
      events.Null();
    } else {
      events.Bytes(keys.back());
    }
    events.EndRow();
  }
  ULAK_ASSIGN_OR_RETURN(PgResult inserted_rows, conn.Query(insert_events, events.AsParams()));
  const std::unordered_set<std::string> inserted = IdsReturned(inserted_rows);
  ULAK_ASSIGN_OR_RETURN(auto earlier, ReadDuplicatedEvents(conn, requests, keys, inserted));

  std::vector<PublishResult> results;
  results.reserve(requests.size());
  PgColumns deliveries(10);
  PgColumns incoming_rows(12);
  for (size_t i = 0; i < requests.size(); ++i) {
    const PublishRequest& req = requests[i];
    const Event& e = req.event;
    if (inserted.count(e.id) == 0) {
      auto found = earlier.find(DuplicateKey(e.organization_id, e.event_id));
      if (found == earlier.end()) return Internal("event " + e.event_id + " conflicted but cannot be read");
      results.push_back(PublishResult{found->second, true, {}});
      if (req.incoming) {
        IncomingRequest incoming = *req.incoming;
        incoming.status = IncomingStatus::kDuplicate;
        incoming.event_id = results.back().event.id;
        AddIncomingRow(incoming_rows, incoming);
      }
      continue;
    }
    for (const Delivery& d : req.deliveries) {
      sql::WriteDelivery(deliveries, d);
      deliveries.EndRow();
      unclaimed_work = unclaimed_work || d.claimed_by.empty();
    }
    if (req.incoming) {
      IncomingRequest incoming = *req.incoming;
      incoming.status = IncomingStatus::kAccepted;
      incoming.event_id = e.id;
      AddIncomingRow(incoming_rows, incoming, e.payload);
    }
    Event stored = e;
    stored.deliveries = static_cast<int>(req.deliveries.size());
    results.push_back(PublishResult{std::move(stored), false, req.deliveries});
  }
  if (deliveries.rows() > 0) {
    ULAK_RETURN_IF_ERROR(conn.Query(insert_deliveries, deliveries.AsParams()).status());
  }
  ULAK_RETURN_IF_ERROR(InsertIncomingRows(conn, incoming_rows));
  return results;
}

// REQUIRES: inside a transaction on conn.
// One INSERT for the batch's attempts, one UPDATE for their deliveries (one more for each
// further outcome of a delivery already in the batch, so each statement moves a delivery at
// most once and later outcomes see earlier ones, as one by one), one UPDATE for the webhooks.
Status PostgresStore::RecordOutcomesOn(Connection& conn, const std::vector<AttemptOutcome>& outcomes) {
  if (outcomes.empty()) return Status::Ok();
  static const std::string insert_attempts =
      "INSERT INTO attempts(id, delivery_id, organization_id, webhook_id, event_type, event_ref, request_url, "
      "request_signature, response_status, response_body, response_time_ms, status, attempt_number, "
      "error_message, delivered_at, next_retry_at, created_at, request_method, request_body) "
      "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], "
      "$8::text[], $9::integer[], $10::bytea[], $11::bigint[], $12::text[], $13::integer[], $14::text[], "
      "$15::bigint[], $16::bigint[], $17::bigint[], $18::text[], $19::bytea[]) "
      "ON CONFLICT (id) DO NOTHING RETURNING id";
  // sql::kOutcomeDeliveryUpdate, row by row from unnest (the same 7 values, WriteOutcomeDelivery).
  static const std::string update_deliveries =
      "UPDATE deliveries d SET status = CASE WHEN d.status = 'cancelled' THEN d.status ELSE u.status END, "
      "attempts = u.attempts, next_attempt_at = u.next_attempt_at, updated_at = u.updated_at, "
      "claimed_by = CASE WHEN u.finished THEN NULL ELSE d.claimed_by END, "
      "lease_until = CASE WHEN u.finished THEN NULL ELSE COALESCE(u.lease_until, d.lease_until) END "
      "FROM unnest($1::text[], $2::text[], $3::integer[], $4::bigint[], $5::bigint[], $6::boolean[], $7::bigint[]) "
      "AS u(id, status, attempts, next_attempt_at, updated_at, finished, lease_until) WHERE d.id = u.id";
  // sql::WebhookTouchSql, row by row from unnest (WriteWebhookTouch's 10 values). The
  // webhook rows are locked first, in id order (the CTE: LockRows sits above its sort), so
  // two nodes' batches never lock them in opposite orders (see sql::WebhookTouches).
  static const std::string update_webhooks =
      "WITH u AS (SELECT * FROM unnest($1::text[], $2::bigint[], $3::integer[], $4::bigint[], $5::bigint[], "
      "$6::bigint[], $7::boolean[], $8::integer[], $9::bigint[], $10::bigint[]) AS u(id, last_triggered_at, streak, "
      "first_failure_at, last_success_at, last_failure_at, has_breaker, breaker_streak, breaker_cooldown_ms, "
      "paused_until)), "
      "locked AS MATERIALIZED (SELECT id FROM webhooks WHERE id IN (SELECT id FROM u) ORDER BY id FOR NO KEY UPDATE) "
      "UPDATE webhooks w SET last_triggered_at = GREATEST(COALESCE(w.last_triggered_at, 0), u.last_triggered_at), "
      "consecutive_failures = COALESCE(u.streak, w.consecutive_failures), "
      "first_failure_at = CASE WHEN u.streak IS NULL THEN w.first_failure_at ELSE u.first_failure_at END, "
      "last_success_at = NULLIF(GREATEST(COALESCE(w.last_success_at, 0), COALESCE(u.last_success_at, 0)), 0), "
      "last_failure_at = NULLIF(GREATEST(COALESCE(w.last_failure_at, 0), COALESCE(u.last_failure_at, 0)), 0), "
      "breaker_streak = CASE WHEN u.has_breaker THEN u.breaker_streak ELSE w.breaker_streak END, "
      "breaker_cooldown_ms = CASE WHEN u.has_breaker THEN u.breaker_cooldown_ms ELSE w.breaker_cooldown_ms END, "
      "paused_until = CASE WHEN u.has_breaker THEN u.paused_until ELSE w.paused_until END "
      "FROM u JOIN locked l ON l.id = u.id WHERE w.id = u.id";

  PgColumns attempts(19);
  for (const AttemptOutcome& o : outcomes) {
    sql::WriteAttempt(attempts, o.attempt);
    attempts.EndRow();
  }
  ULAK_ASSIGN_OR_RETURN(PgResult inserted_rows, conn.Query(insert_attempts, attempts.AsParams()));
  std::unordered_set<std::string> inserted = IdsReturned(inserted_rows);

  std::vector<PgColumns> rounds;  // rounds[k]: the k+1-th outcome of each delivery in the batch
  std::unordered_map<std::string, size_t> outcomes_of;  // delivery id -> outcomes so far
  sql::WebhookTouches touches;
  for (const AttemptOutcome& o : outcomes) {
    // Idempotent: an attempt already stored (a batch retried after a commit that reported
    // failure) changes nothing, not even its delivery, which a later outcome may have moved
    // on. erase: a second outcome with the same attempt id in this batch was not inserted.
    if (inserted.erase(o.attempt.id) == 0) continue;
    const size_t round = outcomes_of[o.attempt.delivery_id]++;
    if (round == rounds.size()) rounds.emplace_back(7);
    sql::WriteOutcomeDelivery(rounds[round], o);
    rounds[round].EndRow();
    touches.Add(o);
  }
  for (const PgColumns& round : rounds) {
    // Planned per call: a few primary key look-ups, whatever the table's size when the
    // connection first ran it (connection.h).
    ULAK_RETURN_IF_ERROR(conn.QueryPlannedPerCall(update_deliveries, round.AsParams()).status());
  }
  // Webhook rows change once per batch, not once per outcome.
  if (!touches.by_webhook().empty()) {
    PgColumns webhooks(10);
    for (const auto& [webhook_id, touch] : touches.by_webhook()) {
      sql::WriteWebhookTouch(webhooks, webhook_id, touch);
      webhooks.EndRow();
    }
    ULAK_RETURN_IF_ERROR(conn.QueryPlannedPerCall(update_webhooks, webhooks.AsParams()).status());
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

Result<std::vector<PendingDelivery>> PostgresStore::ListDueDeliveriesForWebhook(std::string_view webhook_id,
                                                                                TimePoint from,
                                                                                std::string_view after_id, int limit) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  Params p;
  p.Add(webhook_id).Add(ToUnixMillis(from)).Add(after_id);
  AddLimit(p, limit);
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(sql::kListDueDeliveriesForWebhook.postgres(), p));
  return ReadAll<PendingDelivery>(r, ReadPending);
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
