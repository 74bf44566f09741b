// PostgresStore: webhooks, events, deliveries and attempt logs.
#include <string>

#include "store/postgres/delivery_rows.h"
#include "store/postgres/page.h"
#include "store/idempotency_key.h"
#include "store/postgres/postgres_store.h"

namespace ulak::store::postgres {
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

std::optional<TimePoint> OptionalTime(const PgResult& r, int row, int col) {
  if (r.IsNull(row, col)) return std::nullopt;
  return FromUnixMillis(r.Int(row, col));
}

std::optional<int64_t> OptionalMillis(const std::optional<TimePoint>& t) {
  if (!t) return std::nullopt;
  return ToUnixMillis(*t);
}

Webhook ReadWebhook(const PgResult& r, int row) {
  Webhook w;
  w.id = r.Text(row, 0);
  w.organization_id = r.Text(row, 1);
  w.name = r.Text(row, 2);
  w.url = r.Text(row, 3);
  w.secret_key = r.Text(row, 4);
  w.events_json = r.Text(row, 5);
  w.custom_headers_json = r.Text(row, 6);
  w.retry_policy_json = r.Text(row, 7);
  w.is_active = r.Bool(row, 8);
  w.retry_enabled = r.Bool(row, 9);
  w.max_retries = static_cast<int>(r.Int(row, 10));
  w.timeout_seconds = static_cast<int>(r.Int(row, 11));
  w.max_in_flight = static_cast<int>(r.Int(row, 12));
  w.last_triggered_at = OptionalTime(r, row, 13);
  w.created_at = FromUnixMillis(r.Int(row, 14));
  w.updated_at = FromUnixMillis(r.Int(row, 15));
  w.previous_secret_key = r.Text(row, 16);
  w.previous_secret_expires_at = OptionalTime(r, row, 17);
  if (!r.IsNull(row, 18)) w.rate_limit_per_s = static_cast<int>(r.Int(row, 18));
  w.disable_on_gone = r.Bool(row, 19);
  w.disabled_reason = r.Text(row, 20);
  w.disabled_at = OptionalTime(r, row, 21);
  w.consecutive_failures = static_cast<int>(r.Int(row, 22));
  w.first_failure_at = OptionalTime(r, row, 23);
  w.template_json = r.Text(row, 24);
  w.template_auth_json = r.Text(row, 25);
  w.filter_json = r.Text(row, 26);
  w.fields_json = r.Text(row, 27);
  w.transform_lua = r.Text(row, 28);
  w.signature_scheme = r.Text(row, 29);
  w.signing_key = r.Text(row, 30);
  w.previous_signing_key = r.Text(row, 31);
  w.ordered = r.Bool(row, 32);
  w.last_success_at = OptionalTime(r, row, 33);
  w.last_failure_at = OptionalTime(r, row, 34);
  w.breaker.streak = static_cast<int>(r.Int(row, 35));
  w.breaker.cooldown = std::chrono::milliseconds(r.Int(row, 36));
  w.breaker.paused_until = OptionalTime(r, row, 37);
  return w;
}

// Adds the webhook's mutable settings, name .. max_in_flight (11 parameters), in the order
// of kWebhookColumns.
void AddWebhookSettings(Params& p, const Webhook& w) {
  p.Add(w.name).Add(w.url).Add(w.secret_key).Add(w.events_json).Add(w.custom_headers_json).Add(w.retry_policy_json)
      .AddBool(w.is_active).AddBool(w.retry_enabled).Add(int64_t{w.max_retries}).Add(int64_t{w.timeout_seconds})
      .Add(int64_t{w.max_in_flight});
}

// Adds the operations fields, previous_secret_key .. first_failure_at (8 parameters), in
// the order of kWebhookInsertColumns. Empty strings are stored as NULL, as SQLite does.
void AddWebhookOperations(Params& p, const Webhook& w) {
  if (w.previous_secret_key.empty()) {
    p.AddNull();
  } else {
    p.Add(w.previous_secret_key);
  }
  p.AddOptional(OptionalMillis(w.previous_secret_expires_at));
  p.AddOptional(w.rate_limit_per_s ? std::optional<int64_t>(*w.rate_limit_per_s) : std::nullopt);
  p.AddBool(w.disable_on_gone);
  if (w.disabled_reason.empty()) {
    p.AddNull();
  } else {
    p.Add(w.disabled_reason);
  }
  p.AddOptional(OptionalMillis(w.disabled_at)).Add(int64_t{w.consecutive_failures})
      .AddOptional(OptionalMillis(w.first_failure_at));
}

// Adds the shaping fields, template .. transform, the signature scheme and its keys, then
// ordered (9 parameters), in the order of kWebhookInsertColumns.
void AddWebhookShape(Params& p, const Webhook& w) {
  p.Add(w.template_json).Add(w.template_auth_json).Add(w.filter_json).Add(w.fields_json).Add(w.transform_lua);
  p.Add(w.signature_scheme).Add(w.signing_key).Add(w.previous_signing_key);
  p.AddBool(w.ordered);
}

constexpr char kEventColumns[] =
    "id, organization_id, event_type, COALESCE(event_id, ''), payload, deliveries, created_at";

Event ReadEvent(const PgResult& r, int row) {
  Event e;
  e.id = r.Text(row, 0);
  e.organization_id = r.Text(row, 1);
  e.event_type = r.Text(row, 2);
  e.event_id = r.Text(row, 3);
  e.payload = r.Bytes(row, 4);
  e.deliveries = static_cast<int>(r.Int(row, 5));
  e.created_at = FromUnixMillis(r.Int(row, 6));
  return e;
}

// The WHERE clause shared by ListAttempts and GetAttemptStats, built with its parameters
// (PostgreSQL numbers them densely: a placeholder exists only for a filter that is set).
std::string AttemptWhere(const AttemptFilter& f, bool paged, Params& p) {
  std::string where = " WHERE a.organization_id = " + p.NextPlaceholder();
  p.Add(f.organization_id);
  if (f.status) {
    where += " AND a.status = " + p.NextPlaceholder();
    p.Add(DeliveryStatusName(*f.status));
  }
  if (!f.webhook_id.empty()) {
    where += " AND a.webhook_id = " + p.NextPlaceholder();
    p.Add(f.webhook_id);
  }
  if (!f.event_type.empty()) {
    where += " AND a.event_type = " + p.NextPlaceholder();
    p.Add(f.event_type);
  }
  if (f.since) {
    where += " AND a.created_at >= " + p.NextPlaceholder();
    p.Add(ToUnixMillis(*f.since));
  }
  if (!f.delivery_id.empty()) {
    where += " AND a.delivery_id = " + p.NextPlaceholder();
    p.Add(f.delivery_id);
  }
  if (paged && !f.before.empty()) {
    where += " AND a.id < " + p.NextPlaceholder();
    p.Add(f.before);
  }
  return where;
}


}  // namespace

Status PostgresStore::InsertDelivery(Connection& conn, const Delivery& d) {
  Params p;
  p.Add(d.id).Add(d.event_id).Add(d.webhook_id).Add(d.organization_id).Add(DeliveryStatusName(d.status))
      .Add(int64_t{d.attempts}).Add(ToUnixMillis(d.next_attempt_at)).Add(ToUnixMillis(d.created_at));
  if (d.claimed_by.empty()) {
    p.AddNull();
  } else {
    p.Add(d.claimed_by);
  }
  p.AddOptional(OptionalMillis(d.lease_until));
  return conn.Query("INSERT INTO deliveries(id, event_id, webhook_id, organization_id, status, attempts, "
                    "next_attempt_at, created_at, updated_at, claimed_by, lease_until) "
                    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10)", p)
      .status();
}

Status PostgresStore::CreateWebhook(const Webhook& w) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  Params p;
  p.Add(w.id).Add(w.organization_id);
  AddWebhookSettings(p, w);
  p.AddOptional(OptionalMillis(w.last_triggered_at)).Add(ToUnixMillis(w.created_at)).Add(ToUnixMillis(w.updated_at));
  AddWebhookOperations(p, w);
  AddWebhookShape(p, w);
  return conn->Query(std::string("INSERT INTO webhooks(") + kWebhookInsertColumns +
                         ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, "
                         "$19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33)", p)
      .status();
}

Result<Webhook> PostgresStore::GetWebhook(std::string_view organization_id, std::string_view id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(std::string("SELECT ") + kWebhookColumns +
      " FROM webhooks WHERE id = $1 AND ($2 = '' OR organization_id = $2) AND deleted_at IS NULL",
      Params().Add(id).Add(organization_id)));
  if (r.rows() == 0) return NotFound("Webhook " + std::string(id) + " not found.");
  return ReadWebhook(r, 0);
}

Result<Page<Webhook>> PostgresStore::ListWebhooks(std::string_view organization_id, const PageRequest& page) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  Params p;
  p.Add(organization_id).Add(page.after);
  AddLimit(p, static_cast<int64_t>(page.limit) + 1);
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(std::string("SELECT ") + kWebhookColumns +
      " FROM webhooks WHERE organization_id = $1 AND deleted_at IS NULL AND id > $2 ORDER BY id LIMIT $3", p));
  return ReadPage<Webhook>(r, page, ReadWebhook, [](const Webhook& w) { return w.id; });
}

Result<std::vector<Webhook>> PostgresStore::ListAllWebhooks(std::string_view organization_id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(std::string("SELECT ") + kWebhookColumns +
      " FROM webhooks WHERE ($1 = '' OR organization_id = $1) AND deleted_at IS NULL ORDER BY id",
      Params().Add(organization_id)));
  return ReadAll<Webhook>(r, ReadWebhook);
}

Result<std::vector<Webhook>> PostgresStore::ListActiveWebhooks(std::string_view organization_id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(std::string("SELECT ") + kWebhookColumns +
      " FROM webhooks WHERE organization_id = $1 AND deleted_at IS NULL AND is_active ORDER BY id",
      Params().Add(organization_id)));
  return ReadAll<Webhook>(r, ReadWebhook);
}

Status PostgresStore::UpdateWebhook(const Webhook& w) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  // last_triggered_at and created_at are not written: the delivery engine owns
  // last_triggered_at, and a PATCH must not roll it back.
  Params p;
  p.Add(w.id).Add(w.organization_id);
  AddWebhookSettings(p, w);
  p.Add(ToUnixMillis(w.updated_at));
  AddWebhookOperations(p, w);
  AddWebhookShape(p, w);
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(
      "UPDATE webhooks SET name = $3, url = $4, secret_key = $5, events = $6, custom_headers = $7, "
      "retry_policy = $8, is_active = $9, retry_enabled = $10, max_retries = $11, timeout_seconds = $12, "
      "max_in_flight = $13, updated_at = $14, previous_secret_key = $15, previous_secret_expires_at = $16, "
      "rate_limit_per_s = $17, disable_on_gone = $18, disabled_reason = $19, disabled_at = $20, "
      "consecutive_failures = $21, first_failure_at = $22, shape_template = $23, shape_template_auth = $24, "
      "shape_filter = $25, shape_fields = $26, shape_transform = $27, signature_scheme = $28, signing_key = $29, "
      "previous_signing_key = $30, ordered = $31 "
      "WHERE id = $1 AND organization_id = $2 AND deleted_at IS NULL", p));
  if (r.AffectedRows() == 0) return NotFound("Webhook " + w.id + " not found.");
  return Status::Ok();
}

Status PostgresStore::DeleteWebhook(std::string_view organization_id, std::string_view id, TimePoint now) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  Transaction tx(*conn);
  ULAK_RETURN_IF_ERROR(tx.Begin());
  ULAK_ASSIGN_OR_RETURN(PgResult del, conn->Query(
      "UPDATE webhooks SET deleted_at = $3, is_active = FALSE, updated_at = $3 "
      "WHERE id = $1 AND organization_id = $2 AND deleted_at IS NULL",
      Params().Add(id).Add(organization_id).Add(ToUnixMillis(now))));
  if (del.AffectedRows() == 0) return NotFound("Webhook " + std::string(id) + " not found.");
  ULAK_RETURN_IF_ERROR(conn->Query(
      "UPDATE deliveries SET status = 'cancelled', updated_at = $2 "
      "WHERE webhook_id = $1 AND status IN ('pending', 'retrying')",
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
    ULAK_ASSIGN_OR_RETURN(PgResult inserted, conn->Query(
        "INSERT INTO events(id, organization_id, event_type, event_id, payload, deliveries, created_at, "
        "idempotency_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
        "ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING id", p));
    if (inserted.rows() == 0) {
      ULAK_ASSIGN_OR_RETURN(PgResult found, conn->Query(std::string("SELECT ") + kEventColumns +
          " FROM events WHERE idempotency_key = $3 AND organization_id = $1 AND event_id = $2",
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
Status PostgresStore::RecordOutcomesOn(Connection& connection, const std::vector<AttemptOutcome>& outcomes) {
  Connection* conn = &connection;
  for (const AttemptOutcome& o : outcomes) {
    const Attempt& a = o.attempt;
    Params p;
    p.Add(a.id).Add(a.delivery_id).Add(a.organization_id).Add(a.webhook_id).Add(a.event_type).Add(a.event_ref)
        .Add(a.request_url).Add(a.request_signature);
    if (a.response_status) {
      p.Add(int64_t{*a.response_status});
    } else {
      p.AddNull();
    }
    p.AddBytes(a.response_body).Add(a.response_time_ms).Add(DeliveryStatusName(a.status))
        .Add(int64_t{a.attempt_number}).Add(a.error_message).AddOptional(OptionalMillis(a.delivered_at))
        .AddOptional(OptionalMillis(a.next_retry_at)).Add(ToUnixMillis(a.created_at)).Add(a.request_method);
    if (a.request_body.empty()) {
      p.AddNull();  // the event's payload, read back from the event
    } else {
      p.AddBytes(a.request_body);
    }
    ULAK_ASSIGN_OR_RETURN(PgResult inserted, conn->Query(
        "INSERT INTO attempts(id, delivery_id, organization_id, webhook_id, event_type, event_ref, request_url, "
        "request_signature, response_status, response_body, response_time_ms, status, attempt_number, "
        "error_message, delivered_at, next_retry_at, created_at, request_method, request_body) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) "
        "ON CONFLICT (id) DO NOTHING RETURNING id", p));
    // Idempotent: an attempt already stored (a batch retried after a commit that reported
    // failure) changes nothing, not even its delivery, which a later outcome may have moved on.
    if (inserted.rows() == 0) continue;

    // A delivery cancelled meanwhile (webhook deleted) stays cancelled.
    ULAK_RETURN_IF_ERROR(conn->Query(
        "UPDATE deliveries SET status = CASE WHEN status = 'cancelled' THEN status ELSE $2 END, "
        "attempts = $3, next_attempt_at = $4, updated_at = $5 WHERE id = $1",
        Params().Add(a.delivery_id).Add(DeliveryStatusName(o.delivery_status)).Add(int64_t{o.attempts})
            .Add(ToUnixMillis(o.next_attempt_at)).Add(ToUnixMillis(a.created_at))).status());
    // A finished delivery releases its claim; a retry under a lease keeps it until its try.
    const bool finished = o.delivery_status != DeliveryStatus::kRetrying;
    if (finished || o.lease_until) {
      ULAK_RETURN_IF_ERROR(conn->Query(
          "UPDATE deliveries SET claimed_by = CASE WHEN $2 THEN NULL ELSE claimed_by END, lease_until = $3 "
          "WHERE id = $1",
          Params().Add(a.delivery_id).AddBool(finished)
              .AddOptional(finished ? std::nullopt : OptionalMillis(o.lease_until))).status());
    }

    const bool success = a.status == DeliveryStatus::kSuccess;
    Params touch;
    touch.Add(a.webhook_id).Add(ToUnixMillis(a.created_at)).AddBool(success).AddBool(o.breaker.has_value());
    if (o.breaker) {
      touch.Add(int64_t{o.breaker->streak}).Add(static_cast<int64_t>(o.breaker->cooldown.count()))
          .AddOptional(OptionalMillis(o.breaker->paused_until));
    } else {
      touch.Add(int64_t{0}).Add(int64_t{0}).AddNull();
    }
    ULAK_RETURN_IF_ERROR(conn->Query(
        "UPDATE webhooks SET last_triggered_at = GREATEST(COALESCE(last_triggered_at, 0), $2), "
        "last_success_at = CASE WHEN $3 THEN GREATEST(COALESCE(last_success_at, 0), $2) ELSE last_success_at END, "
        "last_failure_at = CASE WHEN $3 THEN last_failure_at ELSE GREATEST(COALESCE(last_failure_at, 0), $2) END, "
        "breaker_streak = CASE WHEN $4 THEN $5 ELSE breaker_streak END, "
        "breaker_cooldown_ms = CASE WHEN $4 THEN $6 ELSE breaker_cooldown_ms END, "
        "paused_until = CASE WHEN $4 THEN $7 ELSE paused_until END WHERE id = $1",
        touch).status());
    if (o.consecutive_failures) {
      ULAK_RETURN_IF_ERROR(conn->Query(
          "UPDATE webhooks SET consecutive_failures = $2, first_failure_at = $3 WHERE id = $1",
          Params().Add(a.webhook_id).Add(int64_t{*o.consecutive_failures})
              .AddOptional(OptionalMillis(o.first_failure_at))).status());
    }
  }
  return Status::Ok();
}

Result<std::vector<PendingDelivery>> PostgresStore::ListPendingDeliveries(std::string_view after, int limit) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  Params p;
  p.Add(after);
  AddLimit(p, limit);
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(std::string(kPendingSelect) +
      "WHERE d.status IN ('pending', 'retrying') AND d.id > $1 ORDER BY d.id LIMIT $2", p));
  std::vector<PendingDelivery> out;
  out.reserve(static_cast<size_t>(r.rows()));
  for (int row = 0; row < r.rows(); ++row) out.push_back(ReadPending(r, row));
  return out;
}

Result<int64_t> PostgresStore::CancelPendingDeliveries(std::string_view webhook_id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(
      "UPDATE deliveries SET status = 'cancelled' WHERE webhook_id = $1 AND status IN ('pending', 'retrying')",
      Params().Add(webhook_id)));
  return r.AffectedRows();
}

Result<Event> PostgresStore::GetEvent(std::string_view organization_id, std::string_view id) {
  ULAK_ASSIGN_OR_RETURN(Lease conn, Acquire());
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn->Query(std::string("SELECT ") + kEventColumns +
      " FROM events WHERE id = $1 AND ($2 = '' OR organization_id = $2)", Params().Add(id).Add(organization_id)));
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
  Params p;
  std::string sql =
      "SELECT a.id, a.delivery_id, a.organization_id, a.webhook_id, a.event_type, a.event_ref, a.request_url, "
      "a.request_signature, a.response_status, a.response_body, a.response_time_ms, a.status, a.attempt_number, "
      "a.error_message, a.delivered_at, a.next_retry_at, a.created_at, COALESCE(a.request_body, e.payload), "
      "a.request_method FROM attempts a "
      "LEFT JOIN deliveries d ON d.id = a.delivery_id LEFT JOIN events e ON e.id = d.event_id" +
      AttemptWhere(filter, true, p);
  sql += " ORDER BY a.id DESC LIMIT " + p.NextPlaceholder();
  AddLimit(p, filter.limit);
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn.Query(sql, p));
  std::vector<Attempt> out;
  out.reserve(static_cast<size_t>(r.rows()));
  for (int row = 0; row < r.rows(); ++row) {
    Attempt a;
    a.id = r.Text(row, 0);
    a.delivery_id = r.Text(row, 1);
    a.organization_id = r.Text(row, 2);
    a.webhook_id = r.Text(row, 3);
    a.event_type = r.Text(row, 4);
    a.event_ref = r.Text(row, 5);
    a.request_url = r.Text(row, 6);
    a.request_signature = r.Text(row, 7);
    if (!r.IsNull(row, 8)) a.response_status = static_cast<int>(r.Int(row, 8));
    a.response_body = r.Bytes(row, 9);
    a.response_time_ms = r.Int(row, 10);
    a.status = ParseDeliveryStatus(r.Text(row, 11)).value_or(DeliveryStatus::kFailed);
    a.attempt_number = static_cast<int>(r.Int(row, 12));
    a.error_message = r.Text(row, 13);
    a.delivered_at = OptionalTime(r, row, 14);
    a.next_retry_at = OptionalTime(r, row, 15);
    a.created_at = FromUnixMillis(r.Int(row, 16));
    a.request_body = r.Bytes(row, 17);  // NULL (event gone) reads as empty
    a.request_method = r.Text(row, 18);
    out.push_back(std::move(a));
  }
  return out;
}

Result<AttemptStats> PostgresStore::GetAttemptStatsOn(Connection& conn, const AttemptFilter& filter) {
  Params p;
  const std::string sql =
      "SELECT COUNT(*), COUNT(*) FILTER (WHERE a.status = 'success'), COUNT(*) FILTER (WHERE a.status = 'failed'), "
      "COUNT(*) FILTER (WHERE a.status = 'retrying'), COALESCE(AVG(a.response_time_ms), 0)::float8 FROM attempts a" +
      AttemptWhere(filter, false, p);
  ULAK_ASSIGN_OR_RETURN(PgResult r, conn.Query(sql, p));
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
