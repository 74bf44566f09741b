#include "store/sql/outcomes.h"

#include <algorithm>

namespace ulak::store::sql {

const Sql kOutcomeDeliveryUpdate(
    "UPDATE deliveries SET status = CASE WHEN status = 'cancelled' THEN status ELSE ?2 END, "
    "attempts = ?3, next_attempt_at = ?4, updated_at = ?5, "
    "claimed_by = CASE WHEN ?6 THEN NULL ELSE claimed_by END, "
    "lease_until = CASE WHEN ?6 THEN NULL ELSE COALESCE(?7, lease_until) END WHERE id = ?1");

void WriteOutcomeDelivery(ParamWriter& p, const AttemptOutcome& o) {
  const bool finished = o.delivery_status != DeliveryStatus::kRetrying;
  p.Text(o.attempt.delivery_id).Text(DeliveryStatusName(o.delivery_status)).Int(o.attempts).Time(o.next_attempt_at)
      .Time(o.attempt.created_at).Bool(finished).OptionalTime(o.lease_until);
}

void WebhookTouches::Add(const AttemptOutcome& o) {
  const Attempt& a = o.attempt;
  WebhookTouch& touch = touched_[a.webhook_id];
  touch.last_triggered_at = std::max(touch.last_triggered_at, ToUnixMillis(a.created_at));
  if (o.consecutive_failures) {
    touch.streak = *o.consecutive_failures;
    touch.first_failure_at = o.first_failure_at;
  }
  std::optional<int64_t>& last = a.status == DeliveryStatus::kSuccess ? touch.last_success_at : touch.last_failure_at;
  last = std::max(last.value_or(0), ToUnixMillis(a.created_at));
  if (o.breaker) touch.breaker = o.breaker;
}

std::string WebhookTouchSql(Dialect dialect) {
  const std::string max = dialect == Dialect::kSqlite ? "MAX" : "GREATEST";
  // CASTs give PostgreSQL each parameter's type (a bare COALESCE(?5, 0) would make it a
  // 4-byte integer, too small for unix milliseconds); SQLite accepts them as they are.
  return "UPDATE webhooks SET last_triggered_at = " + max + "(COALESCE(last_triggered_at, 0), CAST(?2 AS BIGINT)), "
         "consecutive_failures = COALESCE(CAST(?3 AS INTEGER), consecutive_failures), "
         "first_failure_at = CASE WHEN ?3 IS NULL THEN first_failure_at ELSE CAST(?4 AS BIGINT) END, "
         "last_success_at = NULLIF(" + max + "(COALESCE(last_success_at, 0), COALESCE(CAST(?5 AS BIGINT), 0)), 0), "
         "last_failure_at = NULLIF(" + max + "(COALESCE(last_failure_at, 0), COALESCE(CAST(?6 AS BIGINT), 0)), 0), "
         "breaker_streak = CASE WHEN ?7 THEN CAST(?8 AS INTEGER) ELSE breaker_streak END, "
         "breaker_cooldown_ms = CASE WHEN ?7 THEN CAST(?9 AS BIGINT) ELSE breaker_cooldown_ms END, "
         "paused_until = CASE WHEN ?7 THEN CAST(?10 AS BIGINT) ELSE paused_until END WHERE id = ?1";
}

void WriteWebhookTouch(ParamWriter& p, const std::string& webhook_id, const WebhookTouch& touch) {
  p.Text(webhook_id).Int(touch.last_triggered_at)
      .OptionalInt(touch.streak ? std::optional<int64_t>(*touch.streak) : std::nullopt)
      .OptionalTime(touch.first_failure_at).OptionalInt(touch.last_success_at).OptionalInt(touch.last_failure_at)
      .Bool(touch.breaker.has_value());
  if (touch.breaker) {
    p.Int(touch.breaker->streak).Int(touch.breaker->cooldown.count()).OptionalTime(touch.breaker->paused_until);
  } else {
    p.Null().Null().Null();
  }
}

}  // namespace ulak::store::sql
