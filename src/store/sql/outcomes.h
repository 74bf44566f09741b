// What recording attempt outcomes writes besides the attempt rows, the same on both
// stores: one UPDATE of the delivery per outcome, and one UPDATE per webhook per batch
// (never one per outcome: a batch of 500 outcomes of one webhook touches its row once).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "store/sql/dialect.h"
#include "store/sql/row_io.h"
#include "store/types.h"

namespace ulak::store::sql {

// Moves the outcome's delivery on: ?1..?7 from WriteOutcomeDelivery. A delivery cancelled
// meanwhile (webhook deleted) stays cancelled; a finished one releases its claim; a retry
// under a lease keeps it until its try (or takes the outcome's newer lease).
extern const Sql kOutcomeDeliveryUpdate;
void WriteOutcomeDelivery(ParamWriter& p, const AttemptOutcome& o);

// The webhook columns a batch of outcomes changes, folded per webhook.
struct WebhookTouch {
  int64_t last_triggered_at = 0;
  std::optional<int> streak;  // the last outcome's consecutive_failures, when any carried one
  std::optional<TimePoint> first_failure_at;
  std::optional<int64_t> last_success_at, last_failure_at;
  std::optional<Webhook::Breaker> breaker;  // the last outcome's, when any carried one
};

class WebhookTouches {
 public:
  // Folds in an outcome whose attempt row was written (a skipped duplicate is not added).
  void Add(const AttemptOutcome& o);
  // Ordered by webhook id: concurrent batches (several nodes) lock webhook rows in the same
  // order, so they wait for each other instead of deadlocking.
  const std::map<std::string, WebhookTouch>& by_webhook() const { return touched_; }

 private:
  std::map<std::string, WebhookTouch> touched_;
};

// One webhook's UPDATE: ?1..?10 from WriteWebhookTouch. The only dialect difference is the
// name of the two-argument maximum (SQLite's scalar MAX, PostgreSQL's GREATEST).
std::string WebhookTouchSql(Dialect dialect);
void WriteWebhookTouch(ParamWriter& p, const std::string& webhook_id, const WebhookTouch& touch);

}  // namespace ulak::store::sql
