// The shared SQL layer on its own: placeholder rendering, the statements' placeholders
// (PostgreSQL wants $1..$N all used), and how a batch of outcomes folds per webhook.
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "store/sql/dialect.h"
#include "store/sql/outcomes.h"
#include "store/sql/rows.h"
#include "store/sql/statements.h"

namespace ulak::store::sql {
namespace {

// The numbers of the ?N placeholders in text.
std::set<int> Placeholders(const std::string& text) {
  std::set<int> out;
  static const std::regex placeholder(R"(\?(\d+))");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), placeholder); it != std::sregex_iterator(); ++it) {
    out.insert(std::stoi((*it)[1]));
  }
  return out;
}

TEST(SharedSqlTest, PostgresRenderingNumbersTheSamePlaceholdersWithDollars) {
  EXPECT_EQ(ForPostgres("SELECT a FROM t WHERE x = ?1 AND (?2 = '' OR y = ?2) LIMIT ?10"),
            "SELECT a FROM t WHERE x = $1 AND ($2 = '' OR y = $2) LIMIT $10");
  EXPECT_EQ(kGetSetting.sqlite(), "SELECT value FROM settings WHERE name = ?1");
  EXPECT_EQ(kGetSetting.postgres(), "SELECT value FROM settings WHERE name = $1");
  EXPECT_EQ(&kGetSetting.For(Dialect::kPostgres), &kGetSetting.postgres());
}

TEST(SharedSqlTest, EveryStatementUsesEachPlaceholderFromOneToItsLast) {
  const std::vector<const Sql*> all = {
      &kMigrationApplied, &kSchemaVersion, &kGetSetting, &kInsertSettingIfAbsent, &kInsertOrganization,
      &kGetOrganization, &kListOrganizations, &kInsertApiKey, &kListApiKeys, &kDeleteApiKey, &kFindApiKeyByHash,
      &kGetWebhook, &kListWebhooks, &kListAllWebhooks, &kListActiveWebhooks, &kDeleteWebhook, &kDisableWebhook,
      &kCancelOpenDeliveries, &kCancelPendingDeliveries, &kInsertEvent, &kFindEventByEventId, &kGetEvent,
      &kListPendingDeliveries, &kGetDelivery, &kRequeueDelivery, &kDeliveryExists, &kListFailedDeliveries,
      &kInsertJob, &kUpdateJob, &kGetJob, &kInsertDeadOutcome, &kListDeadOutcomes, &kSetOrganizationRetention,
      &kGetPortalGeneration, &kInsertInbox, &kGetInbox, &kListInboxes, &kUpdateInbox, &kDeleteInbox,
      &kInsertInboxRequest, &kTrimInboxRequests, &kListInboxRequests, &kWebhookInsert, &kWebhookUpdate,
      &kDeliveryInsert, &kAttemptInsert, &kOutcomeDeliveryUpdate};
  for (const Sql* sql : all) {
    const std::set<int> used = Placeholders(sql->sqlite());
    if (used.empty()) continue;
    EXPECT_EQ(static_cast<int>(used.size()), *used.rbegin()) << "a gap in " << sql->sqlite();
    EXPECT_EQ(sql->postgres().find('?'), std::string::npos) << sql->postgres();
  }
  EXPECT_EQ(Placeholders(kWebhookInsert.sqlite()).size(), 33u);
  EXPECT_EQ(Placeholders(kWebhookUpdate.sqlite()).size(), 31u);
  EXPECT_EQ(Placeholders(WebhookTouchSql(Dialect::kSqlite)).size(), 10u);
}

TEST(SharedSqlTest, TheAttemptFilterHasAPlaceholderOnlyForEachFilterSet) {
  AttemptFilter f;
  f.organization_id = "org";
  int count = 0;
  EXPECT_EQ(AttemptWhere(f, true, &count), " WHERE a.organization_id = ?1");
  EXPECT_EQ(count, 1);
  f.event_type = "order.created";
  f.before = "cursor";
  EXPECT_EQ(AttemptWhere(f, true, &count), " WHERE a.organization_id = ?1 AND a.event_type = ?2 AND a.id < ?3");
  EXPECT_EQ(count, 3);
  EXPECT_EQ(AttemptWhere(f, false, &count), " WHERE a.organization_id = ?1 AND a.event_type = ?2");
  EXPECT_EQ(count, 2);
}

AttemptOutcome OutcomeOf(const std::string& webhook, DeliveryStatus status, int64_t at_ms) {
  AttemptOutcome o;
  o.attempt.webhook_id = webhook;
  o.attempt.status = status;
  o.attempt.created_at = FromUnixMillis(at_ms);
  o.delivery_status = status;
  return o;
}

TEST(SharedSqlTest, OutcomesFoldIntoOneTouchPerWebhookInIdOrder) {
  WebhookTouches touches;
  AttemptOutcome failed = OutcomeOf("w2", DeliveryStatus::kFailed, 1000);
  failed.consecutive_failures = 1;
  failed.first_failure_at = FromUnixMillis(1000);
  touches.Add(failed);
  touches.Add(OutcomeOf("w1", DeliveryStatus::kSuccess, 1500));
  AttemptOutcome late_logged = OutcomeOf("w2", DeliveryStatus::kSuccess, 900);
  late_logged.consecutive_failures = 0;
  late_logged.breaker = Webhook::Breaker{};
  touches.Add(late_logged);

  ASSERT_EQ(touches.by_webhook().size(), 2u);
  EXPECT_EQ(touches.by_webhook().begin()->first, "w1");
  const WebhookTouch& w2 = touches.by_webhook().at("w2");
  EXPECT_EQ(w2.last_triggered_at, 1000) << "the newest try, whatever the order logged";
  EXPECT_EQ(w2.last_success_at, 900);
  EXPECT_EQ(w2.last_failure_at, 1000);
  EXPECT_EQ(w2.streak, 0) << "the last ended delivery's streak";
  EXPECT_EQ(w2.first_failure_at, std::nullopt);
  EXPECT_TRUE(w2.breaker.has_value());
  EXPECT_FALSE(touches.by_webhook().at("w1").streak.has_value()) << "no outcome of w1 carried one";
}

}  // namespace
}  // namespace ulak::store::sql
