// SqliteStore: webhooks, events, deliveries and attempt logs.
#include <algorithm>
#include <string>
#include <unordered_map>

#include "store/sqlite/delivery_rows.h"
#include "store/sqlite/page.h"
#include "store/idempotency_key.h"
#include "store/sqlite/sqlite_store.h"

namespace ulak::store::sqlite {
namespace {

constexpr char kWebhookColumns[] =
    "id, organization_id, name, url, secret_key, events, custom_headers, retry_policy, is_active, "
    "retry_enabled, max_retries, timeout_seconds, max_in_flight, last_triggered_at, created_at, updated_at, "
    "COALESCE(previous_secret_key, ''), previous_secret_expires_at, rate_limit_per_s, disable_on_gone, "
    "COALESCE(disabled_reason, ''), disabled_at, consecutive_failures, first_failure_at, "
    "shape_template, shape_template_auth, shape_filter, shape_fields, shape_transform, signature_scheme, signing_key, "
    "previous_signing_key, ordered, last_success_at, last_failure_at, breaker_streak, breaker_cooldown_ms, "
    "paused_until";
// The same columns as written (no COALESCE), for INSERT; health columns start empty.
constexpr char kWebhookInsertColumns[] =
    "id, organization_id, name, url, secret_key, events, custom_headers, retry_policy, is_active, "
    "retry_enabled, max_retries, timeout_seconds, max_in_flight, last_triggered_at, created_at, updated_at, "
    "previous_secret_key, previous_secret_expires_at, rate_limit_per_s, disable_on_gone, disabled_reason, "
    "disabled_at, consecutive_failures, first_failure_at, shape_template, shape_template_auth, shape_filter, "
    "shape_fields, shape_transform, signature_scheme, signing_key, previous_signing_key, ordered";

std::optional<TimePoint> OptionalTime(const Statement& st, int col) {
  if (st.ColumnIsNull(col)) return std::nullopt;
  return FromUnixMillis(st.ColumnInt(col));
}

void BindOptionalTime(Statement& st, int index, const std::optional<TimePoint>& t) {
  if (t) {
    st.Bind(index, ToUnixMillis(*t));
  } else {
    st.BindNull(index);
  }
}

Webhook ReadWebhook(const Statement& st) {
  Webhook w;
  w.id = st.ColumnText(0);
  w.organization_id = st.ColumnText(1);
  w.name = st.ColumnText(2);
  w.url = st.ColumnText(3);
  w.secret_key = st.ColumnText(4);
  w.events_json = st.ColumnText(5);
  w.custom_headers_json = st.ColumnText(6);
  w.retry_policy_json = st.ColumnText(7);
  w.is_active = st.ColumnInt(8) != 0;
  w.retry_enabled = st.ColumnInt(9) != 0;
  w.max_retries = static_cast<int>(st.ColumnInt(10));
  w.timeout_seconds = static_cast<int>(st.ColumnInt(11));
  w.max_in_flight = static_cast<int>(st.ColumnInt(12));
  w.last_triggered_at = OptionalTime(st, 13);
  w.created_at = FromUnixMillis(st.ColumnInt(14));
  w.updated_at = FromUnixMillis(st.ColumnInt(15));
  w.previous_secret_key = st.ColumnText(16);
  w.previous_secret_expires_at = OptionalTime(st, 17);
  if (!st.ColumnIsNull(18)) w.rate_limit_per_s = static_cast<int>(st.ColumnInt(18));
  w.disable_on_gone = st.ColumnInt(19) != 0;
  w.disabled_reason = st.ColumnText(20);
  w.disabled_at = OptionalTime(st, 21);
  w.consecutive_failures = static_cast<int>(st.ColumnInt(22));
  w.first_failure_at = OptionalTime(st, 23);
  w.template_json = st.ColumnText(24);
  w.template_auth_json = st.ColumnText(25);
  w.filter_json = st.ColumnText(26);
  w.fields_json = st.ColumnText(27);
  w.transform_lua = st.ColumnText(28);
  w.signature_scheme = st.ColumnText(29);
  w.signing_key = st.ColumnText(30);
  w.previous_signing_key = st.ColumnText(31);
  w.ordered = st.ColumnInt(32) != 0;
  w.last_success_at = OptionalTime(st, 33);
  w.last_failure_at = OptionalTime(st, 34);
  w.breaker.streak = static_cast<int>(st.ColumnInt(35));
  w.breaker.cooldown = std::chrono::milliseconds(st.ColumnInt(36));
  w.breaker.paused_until = OptionalTime(st, 37);
  return w;
}

// Binds every webhook column at ?2..?33 (?1 is the id), in kWebhookInsertColumns order.
void BindWebhookFields(Statement& st, const Webhook& w) {
  st.Bind(2, w.organization_id).Bind(3, w.name).Bind(4, w.url).Bind(5, w.secret_key).Bind(6, w.events_json)
      .Bind(7, w.custom_headers_json).Bind(8, w.retry_policy_json).Bind(9, int64_t{w.is_active})
      .Bind(10, int64_t{w.retry_enabled}).Bind(11, int64_t{w.max_retries}).Bind(12, int64_t{w.timeout_seconds})
      .Bind(13, int64_t{w.max_in_flight});
  BindOptionalTime(st, 14, w.last_triggered_at);
  st.Bind(15, ToUnixMillis(w.created_at)).Bind(16, ToUnixMillis(w.updated_at));
  if (w.previous_secret_key.empty()) {
    st.BindNull(17);
  } else {
    st.Bind(17, w.previous_secret_key);
  }
  BindOptionalTime(st, 18, w.previous_secret_expires_at);
  if (w.rate_limit_per_s) {
    st.Bind(19, int64_t{*w.rate_limit_per_s});
  } else {
    st.BindNull(19);
  }
  st.Bind(20, int64_t{w.disable_on_gone});
  if (w.disabled_reason.empty()) {
    st.BindNull(21);
  } else {
    st.Bind(21, w.disabled_reason);
  }
  BindOptionalTime(st, 22, w.disabled_at);
  st.Bind(23, int64_t{w.consecutive_failures});
  BindOptionalTime(st, 24, w.first_failure_at);
  st.Bind(25, w.template_json).Bind(26, w.template_auth_json).Bind(27, w.filter_json).Bind(28, w.fields_json)
      .Bind(29, w.transform_lua);
  st.Bind(30, w.signature_scheme).Bind(31, w.signing_key).Bind(32, w.previous_signing_key);
  st.Bind(33, int64_t{w.ordered});
}

Event ReadEvent(const Statement& st) {
  Event e;
  e.id = st.ColumnText(0);
  e.organization_id = st.ColumnText(1);
  e.event_type = st.ColumnText(2);
  e.event_id = st.ColumnText(3);
  e.payload = st.ColumnText(4);
  e.deliveries = static_cast<int>(st.ColumnInt(5));
  e.created_at = FromUnixMillis(st.ColumnInt(6));
  return e;
}

constexpr char kEventColumns[] = "id, organization_id, event_type, COALESCE(event_id, ''), payload, deliveries, created_at";

// Builds the WHERE clause shared by ListAttempts and GetAttemptStats; binds follow the
// same order (see BindAttemptFilter).
std::string AttemptWhere(const AttemptFilter& f, bool paged) {
  std::string where = " WHERE a.organization_id = ?1";
  if (f.status) where += " AND a.status = ?2";
  if (!f.webhook_id.empty()) where += " AND a.webhook_id = ?3";
  if (!f.event_type.empty()) where += " AND a.event_type = ?4";
  if (f.since) where += " AND a.created_at >= ?5";
  if (!f.delivery_id.empty()) where += " AND a.delivery_id = ?6";
  if (paged && !f.before.empty()) where += " AND a.id < ?7";
  return where;
}

void BindAttemptFilter(Statement& st, const AttemptFilter& f, bool paged) {
  st.Bind(1, f.organization_id);
  if (f.status) st.Bind(2, DeliveryStatusName(*f.status));
  if (!f.webhook_id.empty()) st.Bind(3, f.webhook_id);
  if (!f.event_type.empty()) st.Bind(4, f.event_type);
  if (f.since) st.Bind(5, ToUnixMillis(*f.since));
  if (!f.delivery_id.empty()) st.Bind(6, f.delivery_id);
  if (paged && !f.before.empty()) st.Bind(7, f.before);
}

}  // namespace

Status SqliteStore::CancelOpenDeliveries(Connection& conn, std::string_view webhook_id, TimePoint now) {
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn.Prepare(
      "UPDATE deliveries SET status = 'cancelled', updated_at = ?2 "
      "WHERE webhook_id = ?1 AND status IN ('pending', 'retrying')"));
  st->Bind(1, webhook_id).Bind(2, ToUnixMillis(now));
  return st->Run();
}

Status SqliteStore::InsertDelivery(Connection& conn, const Delivery& d) {
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn.Prepare(
      "INSERT INTO deliveries(id, event_id, webhook_id, organization_id, status, attempts, next_attempt_at, "
      "created_at, updated_at, claimed_by, lease_until) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10)"));
  st->Bind(1, d.id).Bind(2, d.event_id).Bind(3, d.webhook_id).Bind(4, d.organization_id)
      .Bind(5, DeliveryStatusName(d.status)).Bind(6, int64_t{d.attempts}).Bind(7, ToUnixMillis(d.next_attempt_at))
      .Bind(8, ToUnixMillis(d.created_at));
  if (d.claimed_by.empty()) {
    st->BindNull(9);
  } else {
    st->Bind(9, d.claimed_by);
  }
  BindOptionalTime(*st, 10, d.lease_until);
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
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(std::string("INSERT INTO webhooks(") + kWebhookInsertColumns +
      ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, "
      "?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33)"));
  st->Bind(1, w.id);
  BindWebhookFields(*st, w);
  return st->Run();
}

Result<Webhook> SqliteStore::GetWebhook(std::string_view organization_id, std::string_view id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(std::string("SELECT ") + kWebhookColumns +
      " FROM webhooks WHERE id = ?1 AND (?2 = '' OR organization_id = ?2) AND deleted_at IS NULL"));
  st->Bind(1, id).Bind(2, organization_id);
  ULAK_ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) return NotFound("Webhook " + std::string(id) + " not found.");
  Webhook w = ReadWebhook(*st);
  st->Reset();
  return w;
}

Result<Page<Webhook>> SqliteStore::ListWebhooks(std::string_view organization_id, const PageRequest& page) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(std::string("SELECT ") + kWebhookColumns +
      " FROM webhooks WHERE organization_id = ?1 AND deleted_at IS NULL AND id > ?2 ORDER BY id LIMIT ?3"));
  st->Bind(1, organization_id).Bind(2, page.after).Bind(3, static_cast<int64_t>(page.limit) + 1);
  auto out = ReadPage<Webhook>(*st, page, ReadWebhook, [](const Webhook& w) { return w.id; });
  st->Reset();
  return out;
}

Result<std::vector<Webhook>> SqliteStore::ListAllWebhooks(std::string_view organization_id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(std::string("SELECT ") + kWebhookColumns +
      " FROM webhooks WHERE (?1 = '' OR organization_id = ?1) AND deleted_at IS NULL ORDER BY id"));
  st->Bind(1, organization_id);
  return ReadAll<Webhook>(*st, ReadWebhook);
}

Result<std::vector<Webhook>> SqliteStore::ListActiveWebhooks(std::string_view organization_id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(std::string("SELECT ") + kWebhookColumns +
      " FROM webhooks WHERE organization_id = ?1 AND deleted_at IS NULL AND is_active = 1 ORDER BY id"));
  st->Bind(1, organization_id);
  return ReadAll<Webhook>(*st, ReadWebhook);
}

Status SqliteStore::UpdateWebhook(const Webhook& w) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(
      "UPDATE webhooks SET name = ?3, url = ?4, secret_key = ?5, events = ?6, custom_headers = ?7, "
      "retry_policy = ?8, is_active = ?9, retry_enabled = ?10, max_retries = ?11, timeout_seconds = ?12, "
      "max_in_flight = ?13, updated_at = ?16, previous_secret_key = ?17, previous_secret_expires_at = ?18, "
      "rate_limit_per_s = ?19, disable_on_gone = ?20, disabled_reason = ?21, disabled_at = ?22, "
      "consecutive_failures = ?23, first_failure_at = ?24, shape_template = ?25, shape_template_auth = ?26, shape_filter = ?27, "
      "shape_fields = ?28, shape_transform = ?29, signature_scheme = ?30, signing_key = ?31, "
      "previous_signing_key = ?32, ordered = ?33 "
      "WHERE id = ?1 AND organization_id = ?2 AND deleted_at IS NULL"));
  // ?14 (last_triggered_at) and ?15 (created_at) are bound but never written here: the
  // delivery engine owns last_triggered_at, and a PATCH must not roll it back.
  st->Bind(1, w.id);
  BindWebhookFields(*st, w);
  ULAK_RETURN_IF_ERROR(st->Run());
  if (conn->Changes() == 0) return NotFound("Webhook " + w.id + " not found.");
  return Status::Ok();
}

Status SqliteStore::DeleteWebhook(std::string_view organization_id, std::string_view id, TimePoint now) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  WriteTransaction tx(*conn);
  ULAK_RETURN_IF_ERROR(tx.Begin());
  ULAK_ASSIGN_OR_RETURN(Statement * del, conn->Prepare(
      "UPDATE webhooks SET deleted_at = ?3, is_active = 0, updated_at = ?3 "
      "WHERE id = ?1 AND organization_id = ?2 AND deleted_at IS NULL"));
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
      ULAK_ASSIGN_OR_RETURN(Statement * find, conn->Prepare(std::string("SELECT ") + kEventColumns +
          " FROM events WHERE idempotency_key = ?3 AND organization_id = ?1 AND event_id = ?2"));
      find->Bind(1, e.organization_id).Bind(2, e.event_id).BindBlob(3, IdempotencyKey(e.organization_id, e.event_id));
      ULAK_ASSIGN_OR_RETURN(bool found, find->Step());
      if (found) {
        results.push_back(PublishResult{ReadEvent(*find), true, {}});
        find->Reset();
        if (req.incoming) {
          IncomingRequest incoming = *req.incoming;
          incoming.status = IncomingStatus::kDuplicate;
          incoming.event_id = results.back().event.id;
          ULAK_RETURN_IF_ERROR(InsertIncoming(*conn, incoming));
        }
        continue;
      }
      find->Reset();
    }
    ULAK_ASSIGN_OR_RETURN(Statement * ins, conn->Prepare(
        "INSERT INTO events(id, organization_id, event_type, event_id, payload, deliveries, created_at, "
        "idempotency_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
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

// REQUIRES: inside a write transaction on conn.
Status SqliteStore::RecordOutcomesOn(Connection& connection, const std::vector<AttemptOutcome>& outcomes) {
  Connection* conn = &connection;
  struct WebhookTouch {
    int64_t last_triggered_at = 0;
    std::optional<int> streak;  // the last outcome's, when any ended a delivery
    std::optional<TimePoint> first_failure_at;
    std::optional<int64_t> last_success_at, last_failure_at;
    std::optional<Webhook::Breaker> breaker;  // the last outcome's, when any carried one
  };
  std::unordered_map<std::string, WebhookTouch> touched;
  for (const AttemptOutcome& o : outcomes) {
    const Attempt& a = o.attempt;
    ULAK_ASSIGN_OR_RETURN(Statement * ins, conn->Prepare(
        "INSERT INTO attempts(id, delivery_id, organization_id, webhook_id, event_type, event_ref, request_url, "
        "request_signature, response_status, response_body, response_time_ms, status, attempt_number, "
        "error_message, delivered_at, next_retry_at, created_at, request_method, request_body) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19) "
        "ON CONFLICT (id) DO NOTHING"));
    ins->Bind(1, a.id).Bind(2, a.delivery_id).Bind(3, a.organization_id).Bind(4, a.webhook_id).Bind(5, a.event_type)
        .Bind(6, a.event_ref).Bind(7, a.request_url).Bind(8, a.request_signature);
    if (a.response_status) {
      ins->Bind(9, int64_t{*a.response_status});
    } else {
      ins->BindNull(9);
    }
    ins->Bind(10, a.response_body).Bind(11, a.response_time_ms).Bind(12, DeliveryStatusName(a.status))
        .Bind(13, int64_t{a.attempt_number}).Bind(14, a.error_message);
    BindOptionalTime(*ins, 15, a.delivered_at);
    BindOptionalTime(*ins, 16, a.next_retry_at);
    ins->Bind(17, ToUnixMillis(a.created_at)).Bind(18, a.request_method);
    if (a.request_body.empty()) {
      ins->BindNull(19);  // the event's payload, read back from the event
    } else {
      ins->Bind(19, a.request_body);
    }
    ULAK_RETURN_IF_ERROR(ins->Run());
    // Idempotent: an attempt already stored (a batch retried after a commit that reported
    // failure) changes nothing, not even its delivery, which a later outcome may have moved on.
    if (conn->Changes() == 0) continue;

    // One UPDATE of the delivery per outcome. A delivery cancelled meanwhile (webhook
    // deleted) stays cancelled; a finished one releases its claim; a retry under a lease
    // keeps it until its try.
    const bool finished = o.delivery_status != DeliveryStatus::kRetrying;
    ULAK_ASSIGN_OR_RETURN(Statement * upd, conn->Prepare(
        "UPDATE deliveries SET status = CASE WHEN status = 'cancelled' THEN status ELSE ?2 END, "
        "attempts = ?3, next_attempt_at = ?4, updated_at = ?5, "
        "claimed_by = CASE WHEN ?6 THEN NULL ELSE claimed_by END, "
        "lease_until = CASE WHEN ?6 THEN NULL ELSE COALESCE(?7, lease_until) END WHERE id = ?1"));
    upd->Bind(1, a.delivery_id).Bind(2, DeliveryStatusName(o.delivery_status)).Bind(3, int64_t{o.attempts})
        .Bind(4, ToUnixMillis(o.next_attempt_at)).Bind(5, ToUnixMillis(a.created_at)).Bind(6, int64_t{finished});
    BindOptionalTime(*upd, 7, o.lease_until);
    ULAK_RETURN_IF_ERROR(upd->Run());

    // Webhook rows change once per batch, not once per outcome.
    WebhookTouch& touch = touched[a.webhook_id];
    touch.last_triggered_at = std::max(touch.last_triggered_at, ToUnixMillis(a.created_at));
    if (o.consecutive_failures) {
      touch.streak = *o.consecutive_failures;
      touch.first_failure_at = o.first_failure_at;
    }
    (a.status == DeliveryStatus::kSuccess ? touch.last_success_at : touch.last_failure_at) = ToUnixMillis(a.created_at);
    if (o.breaker) touch.breaker = o.breaker;
  }
  for (const auto& [webhook_id, touch] : touched) {
    ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(
        "UPDATE webhooks SET last_triggered_at = MAX(COALESCE(last_triggered_at, 0), ?2), "
        "consecutive_failures = COALESCE(?3, consecutive_failures), "
        "first_failure_at = CASE WHEN ?3 IS NULL THEN first_failure_at ELSE ?4 END, "
        "last_success_at = NULLIF(MAX(COALESCE(last_success_at, 0), COALESCE(?5, 0)), 0), "
        "last_failure_at = NULLIF(MAX(COALESCE(last_failure_at, 0), COALESCE(?6, 0)), 0), "
        "breaker_streak = CASE WHEN ?7 THEN ?8 ELSE breaker_streak END, "
        "breaker_cooldown_ms = CASE WHEN ?7 THEN ?9 ELSE breaker_cooldown_ms END, "
        "paused_until = CASE WHEN ?7 THEN ?10 ELSE paused_until END WHERE id = ?1"));
    st->Bind(1, webhook_id).Bind(2, touch.last_triggered_at);
    if (touch.last_success_at) st->Bind(5, *touch.last_success_at);
    if (touch.last_failure_at) st->Bind(6, *touch.last_failure_at);
    st->Bind(7, int64_t{touch.breaker.has_value()});
    if (touch.breaker) {
      st->Bind(8, int64_t{touch.breaker->streak}).Bind(9, static_cast<int64_t>(touch.breaker->cooldown.count()));
      BindOptionalTime(*st, 10, touch.breaker->paused_until);
    }
    if (touch.streak) {
      st->Bind(3, int64_t{*touch.streak});
    } else {
      st->BindNull(3);
    }
    BindOptionalTime(*st, 4, touch.first_failure_at);
    ULAK_RETURN_IF_ERROR(st->Run());
  }
  return Status::Ok();
}

Result<std::vector<PendingDelivery>> SqliteStore::ListPendingDeliveries(std::string_view after, int limit) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(std::string(kPendingSelect) +
      "WHERE d.status IN ('pending', 'retrying') AND d.id > ?1 ORDER BY d.id LIMIT ?2"));
  st->Bind(1, after).Bind(2, int64_t{limit});
  return ReadAll<PendingDelivery>(*st, ReadPending);
}

Result<int64_t> SqliteStore::CancelPendingDeliveries(std::string_view webhook_id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(
      "UPDATE deliveries SET status = 'cancelled' WHERE webhook_id = ?1 AND status IN ('pending', 'retrying')"));
  st->Bind(1, webhook_id);
  ULAK_RETURN_IF_ERROR(st->Run());
  return conn->Changes();
}

Result<Event> SqliteStore::GetEvent(std::string_view organization_id, std::string_view id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn->Prepare(std::string("SELECT ") + kEventColumns +
      " FROM events WHERE id = ?1 AND (?2 = '' OR organization_id = ?2)"));
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
  const std::string sql =
      "SELECT a.id, a.delivery_id, a.organization_id, a.webhook_id, a.event_type, a.event_ref, a.request_url, "
      "a.request_signature, a.response_status, a.response_body, a.response_time_ms, a.status, a.attempt_number, "
      "a.error_message, a.delivered_at, a.next_retry_at, a.created_at, COALESCE(a.request_body, e.payload, ''), "
      "a.request_method FROM attempts a "
      "LEFT JOIN deliveries d ON d.id = a.delivery_id LEFT JOIN events e ON e.id = d.event_id" +
      AttemptWhere(filter, true) + " ORDER BY a.id DESC LIMIT ?8";
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn.Prepare(sql));
  BindAttemptFilter(*st, filter, true);
  st->Bind(8, int64_t{filter.limit});
  std::vector<Attempt> out;
  for (;;) {
    ULAK_ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    Attempt a;
    a.id = st->ColumnText(0);
    a.delivery_id = st->ColumnText(1);
    a.organization_id = st->ColumnText(2);
    a.webhook_id = st->ColumnText(3);
    a.event_type = st->ColumnText(4);
    a.event_ref = st->ColumnText(5);
    a.request_url = st->ColumnText(6);
    a.request_signature = st->ColumnText(7);
    if (!st->ColumnIsNull(8)) a.response_status = static_cast<int>(st->ColumnInt(8));
    a.response_body = st->ColumnText(9);
    a.response_time_ms = st->ColumnInt(10);
    a.status = ParseDeliveryStatus(st->ColumnText(11)).value_or(DeliveryStatus::kFailed);
    a.attempt_number = static_cast<int>(st->ColumnInt(12));
    a.error_message = st->ColumnText(13);
    a.delivered_at = OptionalTime(*st, 14);
    a.next_retry_at = OptionalTime(*st, 15);
    a.created_at = FromUnixMillis(st->ColumnInt(16));
    a.request_body = st->ColumnText(17);
    a.request_method = st->ColumnText(18);
    out.push_back(std::move(a));
  }
  return out;
}

Result<AttemptStats> SqliteStore::GetAttemptStatsOn(Connection& conn, const AttemptFilter& filter) {
  const std::string sql =
      "SELECT COUNT(*), COALESCE(SUM(a.status = 'success'), 0), COALESCE(SUM(a.status = 'failed'), 0), "
      "COALESCE(SUM(a.status = 'retrying'), 0), COALESCE(AVG(a.response_time_ms), 0) FROM attempts a" +
      AttemptWhere(filter, false);
  ULAK_ASSIGN_OR_RETURN(Statement * st, conn.Prepare(sql));
  BindAttemptFilter(*st, filter, false);
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
