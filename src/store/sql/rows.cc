#include "store/sql/rows.h"

#include <chrono>
#include <memory>

namespace ulak::store::sql {

const char kWebhookColumns[] =
    "id, organization_id, name, url, secret_key, events, custom_headers, retry_policy, is_active, "
    "retry_enabled, max_retries, timeout_seconds, max_in_flight, last_triggered_at, created_at, updated_at, "
    "COALESCE(previous_secret_key, ''), previous_secret_expires_at, rate_limit_per_s, disable_on_gone, "
    "COALESCE(disabled_reason, ''), disabled_at, consecutive_failures, first_failure_at, "
    "shape_template, shape_template_auth, shape_filter, shape_fields, shape_transform, signature_scheme, signing_key, "
    "previous_signing_key, ordered, last_success_at, last_failure_at, breaker_streak, breaker_cooldown_ms, "
    "paused_until";

const Sql kWebhookInsert(
    "INSERT INTO webhooks(id, organization_id, name, url, secret_key, events, custom_headers, retry_policy, is_active, "
    "retry_enabled, max_retries, timeout_seconds, max_in_flight, last_triggered_at, created_at, updated_at, "
    "previous_secret_key, previous_secret_expires_at, rate_limit_per_s, disable_on_gone, disabled_reason, "
    "disabled_at, consecutive_failures, first_failure_at, shape_template, shape_template_auth, shape_filter, "
    "shape_fields, shape_transform, signature_scheme, signing_key, previous_signing_key, ordered) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, "
    "?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33)");

const Sql kWebhookUpdate(
    "UPDATE webhooks SET name = ?3, url = ?4, secret_key = ?5, events = ?6, custom_headers = ?7, "
    "retry_policy = ?8, is_active = ?9, retry_enabled = ?10, max_retries = ?11, timeout_seconds = ?12, "
    "max_in_flight = ?13, updated_at = ?14, previous_secret_key = ?15, previous_secret_expires_at = ?16, "
    "rate_limit_per_s = ?17, disable_on_gone = ?18, disabled_reason = ?19, disabled_at = ?20, "
    "consecutive_failures = ?21, first_failure_at = ?22, shape_template = ?23, shape_template_auth = ?24, "
    "shape_filter = ?25, shape_fields = ?26, shape_transform = ?27, signature_scheme = ?28, signing_key = ?29, "
    "previous_signing_key = ?30, ordered = ?31 "
    "WHERE id = ?1 AND organization_id = ?2 AND deleted_at IS NULL");

Webhook ReadWebhook(const RowReader& r) {
  Webhook w;
  w.id = r.Text(0);
  w.organization_id = r.Text(1);
  w.name = r.Text(2);
  w.url = r.Text(3);
  w.secret_key = r.Text(4);
  w.events_json = r.Text(5);
  w.custom_headers_json = r.Text(6);
  w.retry_policy_json = r.Text(7);
  w.is_active = r.Bool(8);
  w.retry_enabled = r.Bool(9);
  w.max_retries = static_cast<int>(r.Int(10));
  w.timeout_seconds = static_cast<int>(r.Int(11));
  w.max_in_flight = static_cast<int>(r.Int(12));
  w.last_triggered_at = r.OptionalTime(13);
  w.created_at = r.Time(14);
  w.updated_at = r.Time(15);
  w.previous_secret_key = r.Text(16);
  w.previous_secret_expires_at = r.OptionalTime(17);
  if (!r.IsNull(18)) w.rate_limit_per_s = static_cast<int>(r.Int(18));
  w.disable_on_gone = r.Bool(19);
  w.disabled_reason = r.Text(20);
  w.disabled_at = r.OptionalTime(21);
  w.consecutive_failures = static_cast<int>(r.Int(22));
  w.first_failure_at = r.OptionalTime(23);
  w.template_json = r.Text(24);
  w.template_auth_json = r.Text(25);
  w.filter_json = r.Text(26);
  w.fields_json = r.Text(27);
  w.transform_lua = r.Text(28);
  w.signature_scheme = r.Text(29);
  w.signing_key = r.Text(30);
  w.previous_signing_key = r.Text(31);
  w.ordered = r.Bool(32);
  w.last_success_at = r.OptionalTime(33);
  w.last_failure_at = r.OptionalTime(34);
  w.breaker.streak = static_cast<int>(r.Int(35));
  w.breaker.cooldown = std::chrono::milliseconds(r.Int(36));
  w.breaker.paused_until = r.OptionalTime(37);
  return w;
}

namespace {

// name .. max_in_flight (11 parameters).
void WriteWebhookSettings(ParamWriter& p, const Webhook& w) {
  p.Text(w.name).Text(w.url).Text(w.secret_key).Text(w.events_json).Text(w.custom_headers_json)
      .Text(w.retry_policy_json).Bool(w.is_active).Bool(w.retry_enabled).Int(w.max_retries).Int(w.timeout_seconds)
      .Int(w.max_in_flight);
}

// previous_secret_key .. ordered (17 parameters). Empty strings are stored as NULL.
void WriteWebhookRest(ParamWriter& p, const Webhook& w) {
  p.TextOrNull(w.previous_secret_key).OptionalTime(w.previous_secret_expires_at)
      .OptionalInt(w.rate_limit_per_s ? std::optional<int64_t>(*w.rate_limit_per_s) : std::nullopt)
      .Bool(w.disable_on_gone).TextOrNull(w.disabled_reason).OptionalTime(w.disabled_at)
      .Int(w.consecutive_failures).OptionalTime(w.first_failure_at);
  p.Text(w.template_json).Text(w.template_auth_json).Text(w.filter_json).Text(w.fields_json).Text(w.transform_lua);
  p.Text(w.signature_scheme).Text(w.signing_key).Text(w.previous_signing_key).Bool(w.ordered);
}

}  // namespace

void WriteWebhookInsert(ParamWriter& p, const Webhook& w) {
  p.Text(w.id).Text(w.organization_id);
  WriteWebhookSettings(p, w);
  p.OptionalTime(w.last_triggered_at).Time(w.created_at).Time(w.updated_at);
  WriteWebhookRest(p, w);
}

void WriteWebhookUpdate(ParamWriter& p, const Webhook& w) {
  p.Text(w.id).Text(w.organization_id);
  WriteWebhookSettings(p, w);
  p.Time(w.updated_at);
  WriteWebhookRest(p, w);
}

const char kEventColumns[] = "id, organization_id, event_type, COALESCE(event_id, ''), payload, deliveries, created_at";

Event ReadEvent(const RowReader& r) {
  Event e;
  e.id = r.Text(0);
  e.organization_id = r.Text(1);
  e.event_type = r.Text(2);
  e.event_id = r.Text(3);
  e.payload = r.Bytes(4);
  e.deliveries = static_cast<int>(r.Int(5));
  e.created_at = r.Time(6);
  return e;
}

const char kPendingSelect[] =
    "SELECT d.id, d.event_id, d.webhook_id, d.organization_id, d.status, d.attempts, d.next_attempt_at, "
    "d.created_at, e.event_type, COALESCE(e.event_id, e.id), e.payload, e.created_at "
    "FROM deliveries d JOIN events e ON e.id = d.event_id ";

PendingDelivery ReadPending(const RowReader& r) {
  PendingDelivery p;
  p.delivery.id = r.Text(0);
  p.delivery.event_id = r.Text(1);
  p.delivery.webhook_id = r.Text(2);
  p.delivery.organization_id = r.Text(3);
  p.delivery.status = ParseDeliveryStatus(r.Text(4)).value_or(DeliveryStatus::kPending);
  p.delivery.attempts = static_cast<int>(r.Int(5));
  p.delivery.next_attempt_at = r.Time(6);
  p.delivery.created_at = r.Time(7);
  p.event_type = r.Text(8);
  p.event_ref = r.Text(9);
  p.payload = std::make_shared<const std::string>(r.Bytes(10));
  p.event_created_at = r.Time(11);
  return p;
}

const Sql kDeliveryInsert(
    "INSERT INTO deliveries(id, event_id, webhook_id, organization_id, status, attempts, next_attempt_at, "
    "created_at, updated_at, claimed_by, lease_until) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10)");

void WriteDelivery(ParamWriter& p, const Delivery& d) {
  p.Text(d.id).Text(d.event_id).Text(d.webhook_id).Text(d.organization_id).Text(DeliveryStatusName(d.status))
      .Int(d.attempts).Time(d.next_attempt_at).Time(d.created_at).TextOrNull(d.claimed_by).OptionalTime(d.lease_until);
}

const Sql kAttemptInsert(
    "INSERT INTO attempts(id, delivery_id, organization_id, webhook_id, event_type, event_ref, request_url, "
    "request_signature, response_status, response_body, response_time_ms, status, attempt_number, "
    "error_message, delivered_at, next_retry_at, created_at, request_method, request_body) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19) "
    "ON CONFLICT (id) DO NOTHING");

void WriteAttempt(ParamWriter& p, const Attempt& a) {
  p.Text(a.id).Text(a.delivery_id).Text(a.organization_id).Text(a.webhook_id).Text(a.event_type).Text(a.event_ref)
      .Text(a.request_url).Text(a.request_signature)
      .OptionalInt(a.response_status ? std::optional<int64_t>(*a.response_status) : std::nullopt)
      .Bytes(a.response_body).Int(a.response_time_ms).Text(DeliveryStatusName(a.status)).Int(a.attempt_number)
      .Text(a.error_message).OptionalTime(a.delivered_at).OptionalTime(a.next_retry_at).Time(a.created_at)
      .Text(a.request_method);
  if (a.request_body.empty()) {
    p.Null();  // the event's payload, read back from the event
  } else {
    p.Bytes(a.request_body);
  }
}

const char kAttemptSelect[] =
    "SELECT a.id, a.delivery_id, a.organization_id, a.webhook_id, a.event_type, a.event_ref, a.request_url, "
    "a.request_signature, a.response_status, a.response_body, a.response_time_ms, a.status, a.attempt_number, "
    "a.error_message, a.delivered_at, a.next_retry_at, a.created_at, COALESCE(a.request_body, e.payload, ''), "
    "a.request_method FROM attempts a "
    "LEFT JOIN deliveries d ON d.id = a.delivery_id LEFT JOIN events e ON e.id = d.event_id";

Attempt ReadAttempt(const RowReader& r) {
  Attempt a;
  a.id = r.Text(0);
  a.delivery_id = r.Text(1);
  a.organization_id = r.Text(2);
  a.webhook_id = r.Text(3);
  a.event_type = r.Text(4);
  a.event_ref = r.Text(5);
  a.request_url = r.Text(6);
  a.request_signature = r.Text(7);
  if (!r.IsNull(8)) a.response_status = static_cast<int>(r.Int(8));
  a.response_body = r.Bytes(9);
  a.response_time_ms = r.Int(10);
  a.status = ParseDeliveryStatus(r.Text(11)).value_or(DeliveryStatus::kFailed);
  a.attempt_number = static_cast<int>(r.Int(12));
  a.error_message = r.Text(13);
  a.delivered_at = r.OptionalTime(14);
  a.next_retry_at = r.OptionalTime(15);
  a.created_at = r.Time(16);
  a.request_body = r.Bytes(17);
  a.request_method = r.Text(18);
  return a;
}

std::string AttemptWhere(const AttemptFilter& f, bool paged, int* count) {
  std::string sql;
  int n = 0;
  auto add = [&](std::string_view condition) {
    sql += n == 0 ? " WHERE " : " AND ";
    sql += condition;
    sql += " ?" + std::to_string(++n);
  };
  add("a.organization_id =");
  if (f.status) add("a.status =");
  if (!f.webhook_id.empty()) add("a.webhook_id =");
  if (!f.event_type.empty()) add("a.event_type =");
  if (f.since) add("a.created_at >=");
  if (!f.delivery_id.empty()) add("a.delivery_id =");
  if (paged && !f.before.empty()) add("a.id <");
  if (count != nullptr) *count = n;
  return sql;
}

void WriteAttemptFilter(ParamWriter& p, const AttemptFilter& f, bool paged) {
  p.Text(f.organization_id);
  if (f.status) p.Text(DeliveryStatusName(*f.status));
  if (!f.webhook_id.empty()) p.Text(f.webhook_id);
  if (!f.event_type.empty()) p.Text(f.event_type);
  if (f.since) p.Time(*f.since);
  if (!f.delivery_id.empty()) p.Text(f.delivery_id);
  if (paged && !f.before.empty()) p.Text(f.before);
}

const char kOrganizationColumns[] = "id, name, created_at, retention_days";

Organization ReadOrganization(const RowReader& r) {
  Organization org{r.Text(0), r.Text(1), r.Time(2), std::nullopt};
  if (!r.IsNull(3)) org.retention_days = static_cast<int>(r.Int(3));
  return org;
}

const char kApiKeyColumns[] = "id, organization_id, key_hash, prefix, created_at";

ApiKey ReadApiKey(const RowReader& r) { return ApiKey{r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.Time(4)}; }

const char kJobColumns[] = "id, organization_id, kind, status, params, total, done, error, created_at, updated_at";

Job ReadJob(const RowReader& r) {
  Job j;
  j.id = r.Text(0);
  j.organization_id = r.Text(1);
  j.kind = r.Text(2);
  j.status = r.Text(3);
  j.params_json = r.Text(4);
  j.total = r.Int(5);
  j.done = r.Int(6);
  j.error = r.Text(7);
  j.created_at = r.Time(8);
  j.updated_at = r.Time(9);
  return j;
}

const char kDeadOutcomeColumns[] =
    "attempt_id, delivery_id, organization_id, webhook_id, attempt_status, attempt_number, response_status, error, "
    "tries, created_at";

DeadOutcome ReadDeadOutcome(const RowReader& r) {
  DeadOutcome d;
  Attempt& a = d.outcome.attempt;
  a.id = r.Text(0);
  a.delivery_id = r.Text(1);
  a.organization_id = r.Text(2);
  a.webhook_id = r.Text(3);
  a.status = ParseDeliveryStatus(r.Text(4)).value_or(DeliveryStatus::kFailed);
  a.attempt_number = static_cast<int>(r.Int(5));
  if (!r.IsNull(6)) a.response_status = static_cast<int>(r.Int(6));
  d.outcome.delivery_status = a.status;
  d.outcome.attempts = a.attempt_number;
  d.error = r.Text(7);
  d.tries = static_cast<int>(r.Int(8));
  d.created_at = r.Time(9);
  return d;
}

DeliveryBucket ReadDeliveryBucket(const RowReader& r) {
  return DeliveryBucket{r.Time(0), r.Int(1), r.Int(2), r.Int(3), r.Double(4), r.Int(5)};
}

const char kInboxColumns[] = "id, organization_id, name, response_status, created_at";

Inbox ReadInbox(const RowReader& r) {
  return Inbox{r.Text(0), r.Text(1), r.Text(2), static_cast<int>(r.Int(3)), r.Time(4)};
}

const char kInboxRequestColumns[] = "id, inbox_id, method, path, query, headers, body, remote_address, received_at";

InboxRequest ReadInboxRequest(const RowReader& r) {
  return InboxRequest{r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4),
                      r.Text(5), r.Bytes(6), r.Text(7), r.Time(8)};
}

}  // namespace ulak::store::sql
