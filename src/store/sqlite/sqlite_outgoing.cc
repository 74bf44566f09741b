// SqliteStore: webhooks, events, deliveries and attempt logs.
#include <algorithm>
#include <string>
#include <unordered_map>

#include "store/idempotency_key.h"
#include "store/sql/outcomes.h"
#include "store/sql/rows.h"
#include "store/sql/statements.h"
#include "store/sqlite/delivery_rows.h"
#include "store/sqlite/page.h"
#include "store/sqlite/sql_io.h"
#include "store/sqlite/sqlite_store.h"

namespace ulak::store::sqlite {
namespace {

// The rows and most statements are shared with PostgreSQL (store/sql/); what is left in
// this file is what SQLite says differently: the write lock taken up front, Changes() to
// tell whether an INSERT ... DO NOTHING inserted, scalar MAX, SUM over booleans.
Webhook ReadWebhook(const Statement& st) { return sql::ReadWebhook(SqliteRow(st)); }
Event ReadEvent(const Statement& st) { return sql::ReadEvent(SqliteRow(st)); }

}  // namespace

Status SqliteStore::CancelOpenDeliveries(Connection& conn, std::string_view webhook_id, TimePoint now) {
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn.Prepare(sql::kCancelOpenDeliveries.sqlite()));
  st->Bind(1, webhook_id).Bind(2, ToUnixMillis(now));
  return st->Run();
}

Status SqliteStore::InsertDelivery(Connection& conn, const Delivery& d) {
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn.Prepare(sql::kDeliveryInsert.sqlite()));
  SqliteParams params(*st);
  sql::WriteDelivery(params, d);
  return st->Run();
}

Result<std::vector<PendingDelivery>> SqliteStore::ClaimDueDeliveries(std::string_view node_id, TimePoint now,
                                                                     TimePoint lease_until, int limit) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  // The write lock (BEGIN IMMEDIATE) makes select-then-claim atomic against other claimers.
  WriteTransaction tx(*conn);
  ULAK_RETURN_IF_ERROR(tx.Begin());
  ULAK_ASSIGN_OR_RETURN(Statement * pick, conn->Prepare(std::string(kPendingSelect) +
      "WHERE d.status IN ('pending', 'retrying') AND d.next_attempt_at <= ?1 "
      "AND (d.lease_until IS NULL OR d.lease_until < ?1) ORDER BY d.next_attempt_at, d.id LIMIT ?2"));
  pick->Bind(1, ToUnixMillis(now)).Bind(2, int64_t{limit});
  std::vector<PendingDelivery> out;
  for (;;) {
    ULAK_ASSIGN_OR_RETURN(bool row, pick->Step());
    if (!row) break;
    out.push_back(ReadPending(*pick));
  }
  for (PendingDelivery& p : out) {
    ULAK_ASSIGN_OR_RETURN(Statement * claim, conn->Prepare(
        "UPDATE deliveries SET claimed_by = ?2, lease_until = ?3 WHERE id = ?1"));
    claim->Bind(1, p.delivery.id).Bind(2, node_id).Bind(3, ToUnixMillis(lease_until));
    ULAK_RETURN_IF_ERROR(claim->Run());
    p.delivery.claimed_by = std::string(node_id);
    p.delivery.lease_until = lease_until;
  }
  ULAK_RETURN_IF_ERROR(tx.Commit());
  return out;
}

Result<int64_t> SqliteStore::RenewLeases(std::string_view node_id, TimePoint lease_until) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(
      "UPDATE deliveries SET lease_until = MAX(COALESCE(lease_until, 0), ?2) "
      "WHERE claimed_by = ?1 AND status IN ('pending', 'retrying')"));
  st->Bind(1, node_id).Bind(2, ToUnixMillis(lease_until));
  ULAK_RETURN_IF_ERROR(st->Run());
  return conn->Changes();
}

Status SqliteStore::CreateWebhook(const Webhook& w) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(sql::kWebhookInsert.sqlite()));
  SqliteParams params(*st);
  sql::WriteWebhookInsert(params, w);
  return st->Run();
}

Result<Webhook> SqliteStore::GetWebhook(std::string_view organization_id, std::string_view id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(sql::kGetWebhook.sqlite()));
  st->Bind(1, id).Bind(2, organization_id);
  ULAK_ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) return NotFound("Webhook " + std::string(id) + " not found.");
  Webhook w = ReadWebhook(*st);
  st->Reset();
  return w;
}

Result<Page<Webhook>> SqliteStore::ListWebhooks(std::string_view organization_id, const PageRequest& page) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(sql::kListWebhooks.sqlite()));
  st->Bind(1, organization_id).Bind(2, page.after).Bind(3, static_cast<int64_t>(page.limit) + 1);
  auto out = ReadPage<Webhook>(*st, page, ReadWebhook, [](const Webhook& w) { return w.id; });
  st->Reset();
  return out;
}

Result<std::vector<Webhook>> SqliteStore::ListAllWebhooks(std::string_view organization_id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(sql::kListAllWebhooks.sqlite()));
  st->Bind(1, organization_id);
  return ReadAll<Webhook>(*st, ReadWebhook);
}

Result<std::vector<Webhook>> SqliteStore::ListActiveWebhooks(std::string_view organization_id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(sql::kListActiveWebhooks.sqlite()));
  st->Bind(1, organization_id);
  return ReadAll<Webhook>(*st, ReadWebhook);
}

Status SqliteStore::UpdateWebhook(const Webhook& w) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(sql::kWebhookUpdate.sqlite()));
  SqliteParams params(*st);
  sql::WriteWebhookUpdate(params, w);
  ULAK_RETURN_IF_ERROR(st->Run());
  if (conn->Changes() == 0) return NotFound("Webhook " + w.id + " not found.");
  return Status::Ok();
}

Status SqliteStore::DeleteWebhook(std::string_view organization_id, std::string_view id, TimePoint now) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  WriteTransaction tx(*conn);
  ULAK_RETURN_IF_ERROR(tx.Begin());
  ULAK_ASSIGN_OR_RETURN(Statement * del, conn->Prepare(sql::kDeleteWebhook.sqlite()));
  del->Bind(1, id).Bind(2, organization_id).Bind(3, ToUnixMillis(now));
  ULAK_RETURN_IF_ERROR(del->Run());
  if (conn->Changes() == 0) return NotFound("Webhook " + std::string(id) + " not found.");
  ULAK_RETURN_IF_ERROR(CancelOpenDeliveries(*conn, id, now));
  return tx.Commit();
}

Result<std::vector<PublishResult>> SqliteStore::Publish(const std::vector<PublishRequest>& requests) {
  return CommitBatch(requests, {});
}

Status SqliteStore::RecordOutcomes(const std::vector<AttemptOutcome>& outcomes) {
  return CommitBatch({}, outcomes).status();
}

Result<std::vector<PublishResult>> SqliteStore::CommitBatch(const std::vector<PublishRequest>& requests,
                                                            const std::vector<AttemptOutcome>& outcomes) {
  // A publish answered 202 must survive a restart: never into a removed or replaced file.
  if (!requests.empty()) ULAK_RETURN_IF_ERROR(CheckSameFile(path_, identity_));
  ULAK_ASSIGN_OR_RETURN(Lease lease, Acquire());
  // Outcomes alone are committed without waiting for fsync (synchronous=NORMAL: the WAL is
  // written, so a killed process loses nothing, but a power cut may roll back the newest
  // ones, leaving their deliveries pending: tried again). The next durable commit's fsync
  // covers them too. Publishes always wait for it: their 202 promises durability.
  std::optional<RelaxedSync> relaxed;
  if (requests.empty()) relaxed.emplace(*lease);
  std::lock_guard gate(write_gate_);
  WriteTransaction tx(*lease);
  ULAK_RETURN_IF_ERROR(tx.Begin());
  ULAK_RETURN_IF_ERROR(RecordOutcomesOn(*lease, outcomes));
  ULAK_ASSIGN_OR_RETURN(std::vector<PublishResult> results, PublishOn(*lease, requests));
  ULAK_RETURN_IF_ERROR(tx.Commit());
  return results;
}

// REQUIRES: inside a write transaction on conn.
Result<std::vector<PublishResult>> SqliteStore::PublishOn(Connection& connection,
                                                          const std::vector<PublishRequest>& requests) {
  Connection* conn = &connection;
  std::vector<PublishResult> results;
  results.reserve(requests.size());
  for (const PublishRequest& req : requests) {
    const Event& e = req.event;
    if (!e.event_id.empty()) {
      // By the compact key (store/idempotency_key.h); the texts confirm it.
      ULAK_ASSIGN_OR_RETURN(Statement * find, conn->Prepare(sql::kFindEventByEventId.sqlite()));
      find->Bind(1, e.organization_id).Bind(2, e.event_id).BindBlob(3, IdempotencyKey(e.organization_id, e.event_id));
      ULAK_ASSIGN_OR_RETURN(bool found, find->Step());
      if (found) {
        results.push_back(PublishResult{ReadEvent(*find), true, {}});
        find->Reset();
        if (req.incoming) {
          ULAK_RETURN_IF_ERROR(
              InsertIncomingAs(*conn, *req.incoming, IncomingStatus::kDuplicate, results.back().event.id));
        }
        continue;
      }
      find->Reset();
    }
    ULAK_ASSIGN_OR_RETURN(Statement * ins, conn->Prepare(sql::kInsertEvent.sqlite()));
    ins->Bind(1, e.id).Bind(2, e.organization_id).Bind(3, e.event_type);
    if (e.event_id.empty()) {
      ins->BindNull(4).BindNull(8);
    } else {
      ins->Bind(4, e.event_id).BindBlob(8, IdempotencyKey(e.organization_id, e.event_id));
    }
    ins->Bind(5, e.payload).Bind(6, static_cast<int64_t>(req.deliveries.size())).Bind(7, ToUnixMillis(e.created_at));
    ULAK_RETURN_IF_ERROR(ins->Run());
    for (const Delivery& d : req.deliveries) {
      ULAK_RETURN_IF_ERROR(InsertDelivery(*conn, d));
    }
    if (req.incoming) {
      ULAK_RETURN_IF_ERROR(InsertIncomingAs(*conn, *req.incoming, IncomingStatus::kAccepted, e.id, e.payload));
    }
    Event stored = e;
    stored.deliveries = static_cast<int>(req.deliveries.size());
    results.push_back(PublishResult{std::move(stored), false, req.deliveries});
  }
  return results;
}

// REQUIRES: inside a write transaction on conn.
Status SqliteStore::RecordOutcomesOn(Connection& conn, const std::vector<AttemptOutcome>& outcomes) {
  sql::WebhookTouches touches;
  for (const AttemptOutcome& o : outcomes) {
    ULAK_ASSIGN_OR_RETURN(Statement * ins, conn.Prepare(sql::kAttemptInsert.sqlite()));
    SqliteParams attempt(*ins);
    sql::WriteAttempt(attempt, o.attempt);
    ULAK_RETURN_IF_ERROR(ins->Run());
    // Idempotent: an attempt already stored (a batch retried after a commit that reported
    // failure) changes nothing, not even its delivery, which a later outcome may have moved on.
    if (conn.Changes() == 0) continue;
    ULAK_ASSIGN_OR_RETURN(Statement * upd, conn.Prepare(sql::kOutcomeDeliveryUpdate.sqlite()));
    SqliteParams delivery(*upd);
    sql::WriteOutcomeDelivery(delivery, o);
    ULAK_RETURN_IF_ERROR(upd->Run());
    touches.Add(o);
  }
  // Webhook rows change once per batch, not once per outcome.
  static const std::string touch_sql = sql::WebhookTouchSql(sql::Dialect::kSqlite);
  for (const auto& [webhook_id, touch] : touches.by_webhook()) {
    ULAK_ASSIGN_OR_RETURN(Statement * st, conn.Prepare(touch_sql));
    SqliteParams params(*st);
    sql::WriteWebhookTouch(params, webhook_id, touch);
    ULAK_RETURN_IF_ERROR(st->Run());
  }
  return Status::Ok();
}

Result<std::vector<PendingDelivery>> SqliteStore::ListPendingDeliveries(std::string_view after, int limit) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(sql::kListPendingDeliveries.sqlite()));
  st->Bind(1, after).Bind(2, int64_t{limit});
  return ReadAll<PendingDelivery>(*st, ReadPending);
}

Result<std::vector<PendingDelivery>> SqliteStore::ListDueDeliveriesForWebhook(std::string_view webhook_id,
                                                                              TimePoint from, std::string_view after_id,
                                                                              int limit) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(sql::kListDueDeliveriesForWebhook.sqlite()));
  st->Bind(1, webhook_id).Bind(2, ToUnixMillis(from)).Bind(3, after_id).Bind(4, int64_t{limit});
  return ReadAll<PendingDelivery>(*st, ReadPending);
}

Result<int64_t> SqliteStore::CancelPendingDeliveries(std::string_view webhook_id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(sql::kCancelPendingDeliveries.sqlite()));
  st->Bind(1, webhook_id);
  ULAK_RETURN_IF_ERROR(st->Run());
  return conn->Changes();
}

Result<Event> SqliteStore::GetEvent(std::string_view organization_id, std::string_view id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(sql::kGetEvent.sqlite()));
  st->Bind(1, id).Bind(2, organization_id);
  ULAK_ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) return NotFound("Event " + std::string(id) + " not found.");
  Event e = ReadEvent(*st);
  st->Reset();
  return e;
}

Result<AttemptLog> SqliteStore::ListAttemptsWithStats(const AttemptFilter& filter) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  // One read transaction: the stats describe exactly the snapshot the list came from.
  ULAK_RETURN_IF_ERROR(conn->Exec("BEGIN"));
  AttemptLog out;
  Result<std::vector<Attempt>> attempts = ListAttemptsOn(*conn, filter);
  Result<AttemptStats> stats = attempts.ok() ? GetAttemptStatsOn(*conn, filter) : Result<AttemptStats>(attempts.status());
  (void)conn->Exec("COMMIT");
  if (!stats.ok()) return stats.status();
  out.attempts = std::move(attempts).value();
  out.stats = *stats;
  return out;
}

Result<std::vector<Attempt>> SqliteStore::ListAttempts(const AttemptFilter& filter) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  return ListAttemptsOn(*conn, filter);
}

Result<AttemptStats> SqliteStore::GetAttemptStats(const AttemptFilter& filter) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  return GetAttemptStatsOn(*conn, filter);
}

Result<std::vector<Attempt>> SqliteStore::ListAttemptsOn(Connection& conn, const AttemptFilter& filter) {
  int count = 0;
  const std::string where = sql::AttemptWhere(filter, true, &count);  // sets count: before it is read
  const std::string text = sql::kAttemptSelect + where + " ORDER BY a.id DESC LIMIT ?" + std::to_string(count + 1);
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn.Prepare(text));
  SqliteParams params(*st);
  sql::WriteAttemptFilter(params, filter, true);
  params.Int(filter.limit);
  std::vector<Attempt> out;
  for (;;) {
    ULAK_ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    out.push_back(sql::ReadAttempt(SqliteRow(*st)));
  }
  return out;
}

Result<AttemptStats> SqliteStore::GetAttemptStatsOn(Connection& conn, const AttemptFilter& filter) {
  const std::string text =
      "SELECT COUNT(*), COALESCE(SUM(a.status = 'success'), 0), COALESCE(SUM(a.status = 'failed'), 0), "
      "COALESCE(SUM(a.status = 'retrying'), 0), COALESCE(AVG(a.response_time_ms), 0) FROM attempts a" +
      sql::AttemptWhere(filter, false, nullptr);
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn.Prepare(text));
  SqliteParams params(*st);
  sql::WriteAttemptFilter(params, filter, false);
  ULAK_ASSIGN_OR_RETURN(bool row, st->Step());
  AttemptStats stats;
  if (row) {
    stats.total = st->ColumnInt(0);
    stats.success = st->ColumnInt(1);
    stats.failed = st->ColumnInt(2);
    stats.retrying = st->ColumnInt(3);
    stats.avg_response_time_ms = st->ColumnDouble(4);
  }
  st->Reset();
  return stats;
}

}  // namespace ulak::store::sqlite
