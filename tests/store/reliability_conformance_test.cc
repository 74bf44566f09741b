// Conformance (issue 15): the contracts of CommitBatch (atomic, idempotent outcomes) and the
// writer's dead letters, on every store; and the whole suite once more through FaultyStore
// with no fault injected, which shows the wrapper changes nothing by itself.
#include <filesystem>

#include "common/clock.h"
#include "common/ids.h"
#include "store/conformance.h"
#include "store/faulty_store.h"
#include "store/sqlite/sqlite_store.h"
#include "support/sample_rows.h"
#include "support/temp_dir.h"

namespace ulak::store::testing {
namespace {

StoreFactory FaultySqliteFactory() {
  return {"faulty_sqlite", [] {
            static ulak::testing::TempDir dir;
            static int counter = 0;
            const std::string path = dir.path() + "/faulty_" + std::to_string(++counter) + ".db";
            auto store = sqlite::SqliteStore::Open(path);
            if (!store.ok() || !(*store)->Migrate().ok()) return std::unique_ptr<Store>();
            return std::unique_ptr<Store>(std::make_unique<FaultyStore>(std::move(store).value()));
          }};
}

INSTANTIATE_TEST_SUITE_P(FaultySqlite, StoreConformanceTest, ::testing::Values(FaultySqliteFactory()),
                         [](const auto& info) { return info.param.name; });

// One organization, one webhook, one published event with one delivery.
class BatchFixture {
 public:
  explicit BatchFixture(Store& store) : store_(store) {
    org = Id();
    EXPECT_TRUE(store_.CreateOrganization({org, "org", clock.Now()}, {Id(), org, "hash-" + org, "ulak_x", clock.Now()}).ok());
    Webhook w = ulak::testing::SampleWebhook(webhook = Id(), org, clock.Now());
    EXPECT_TRUE(store_.CreateWebhook(w).ok());
    PublishRequest first = NewPublish();
    EXPECT_TRUE(store_.Publish({first}).ok());
    delivery = first.deliveries[0];
  }
  PublishRequest NewPublish() {
    PublishRequest r;
    r.event.id = Id();
    r.event.organization_id = org;
    r.event.event_type = "order.created";
    r.event.payload = R"({"event":"order.created"})";
    r.event.created_at = clock.Now();
    Delivery d;
    d.id = Id();
    d.event_id = r.event.id;
    d.webhook_id = webhook;
    d.organization_id = org;
    d.next_attempt_at = d.created_at = clock.Now();
    r.deliveries.push_back(d);
    return r;
  }
  AttemptOutcome Outcome(const Delivery& d, DeliveryStatus status, int attempt_number) {
    AttemptOutcome o;
    o.attempt.id = Id();
    o.attempt.delivery_id = d.id;
    o.attempt.organization_id = org;
    o.attempt.webhook_id = webhook;
    o.attempt.event_type = "order.created";
    o.attempt.event_ref = "ref";
    o.attempt.request_url = "https://example.com/hook";
    o.attempt.request_signature = "sig";
    o.attempt.response_status = status == DeliveryStatus::kSuccess ? 200 : 500;
    o.attempt.status = status;
    o.attempt.attempt_number = attempt_number;
    o.attempt.created_at = clock.Now();
    o.delivery_status = status;
    o.attempts = attempt_number;
    o.next_attempt_at = clock.Now() + std::chrono::seconds(60);
    return o;
  }
  std::vector<Attempt> Attempts() {
    AttemptFilter filter;
    filter.organization_id = org;
    filter.limit = 100;
    Result<std::vector<Attempt>> got = store_.ListAttempts(filter);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? *got : std::vector<Attempt>();
  }
  std::string Id() {
    clock.Advance(Millis(1));
    return NewId(clock, random);
  }

  ManualClock clock;
  SeededRandomForTest random{15};
  std::string org, webhook;
  Delivery delivery;

 private:
  Store& store_;
};

TEST_P(StoreConformanceTest, CommitBatchWithAFailingPublishHalfStoresNoOutcome) {
  BatchFixture f(*store_);
  // The publish half fails: its delivery id is already taken (primary key).
  PublishRequest bad = f.NewPublish();
  bad.deliveries[0].id = f.delivery.id;
  AttemptOutcome outcome = f.Outcome(f.delivery, DeliveryStatus::kSuccess, 1);
  Result<std::vector<PublishResult>> result = store_->CommitBatch({bad}, {outcome});
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(f.Attempts().empty()) << "the outcome half was committed without its publish half";
  EXPECT_EQ(store_->GetDelivery("", f.delivery.id)->delivery.status, DeliveryStatus::kPending);
  EXPECT_EQ(store_->GetEvent("", bad.event.id).status().code(), ErrorCode::kNotFound);
  // The writer's fallback then commits the outcome alone: it must not meet a row of its own.
  ASSERT_TRUE(store_->CommitBatch({}, {outcome}).ok());
  EXPECT_EQ(f.Attempts().size(), 1u);
}

TEST_P(StoreConformanceTest, CommitBatchWithAFailingOutcomeHalfStoresNoPublish) {
  BatchFixture f(*store_);
  Delivery missing = f.delivery;
  missing.id = "no-such-delivery";  // the attempt's reference to its delivery fails
  PublishRequest good = f.NewPublish();
  Result<std::vector<PublishResult>> result =
      store_->CommitBatch({good}, {f.Outcome(missing, DeliveryStatus::kSuccess, 1)});
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(store_->GetEvent("", good.event.id).status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(f.Attempts().empty());
  EXPECT_TRUE(store_->CommitBatch({good}, {}).ok());
  EXPECT_TRUE(store_->GetEvent("", good.event.id).ok());
}

TEST_P(StoreConformanceTest, RetriedOutcomesAreIdempotent) {
  BatchFixture f(*store_);
  AttemptOutcome first = f.Outcome(f.delivery, DeliveryStatus::kRetrying, 1);
  ASSERT_TRUE(store_->RecordOutcomes({first}).ok());
  // A commit that succeeded but reported failure: the writer sends the same batch again.
  ASSERT_TRUE(store_->RecordOutcomes({first}).ok());
  ASSERT_TRUE(store_->CommitBatch({f.NewPublish()}, {first}).ok());
  EXPECT_EQ(f.Attempts().size(), 1u);
  // A late replay of an older outcome does not roll its delivery back.
  AttemptOutcome second = f.Outcome(f.delivery, DeliveryStatus::kSuccess, 2);
  ASSERT_TRUE(store_->RecordOutcomes({second}).ok());
  ASSERT_TRUE(store_->RecordOutcomes({first, second}).ok());
  EXPECT_EQ(f.Attempts().size(), 2u);
  Result<PendingDelivery> d = store_->GetDelivery("", f.delivery.id);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->delivery.status, DeliveryStatus::kSuccess);
  EXPECT_EQ(d->delivery.attempts, 2);
}

TEST_P(StoreConformanceTest, DeadOutcomesAreParkedOnce) {
  BatchFixture f(*store_);
  DeadOutcome dead{f.Outcome(f.delivery, DeliveryStatus::kFailed, 3), "FOREIGN KEY constraint failed", 5,
                   f.clock.Now()};
  ASSERT_TRUE(store_->RecordDeadOutcome(dead).ok());
  ASSERT_TRUE(store_->RecordDeadOutcome(dead).ok());
  Result<std::vector<DeadOutcome>> got = store_->ListDeadOutcomes(10);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].outcome.attempt.id, dead.outcome.attempt.id);
  EXPECT_EQ((*got)[0].outcome.attempt.delivery_id, f.delivery.id);
  EXPECT_EQ((*got)[0].outcome.attempt.attempt_number, 3);
  EXPECT_EQ((*got)[0].outcome.attempt.response_status, 500);
  EXPECT_EQ((*got)[0].error, "FOREIGN KEY constraint failed");
  EXPECT_EQ((*got)[0].tries, 5);
  EXPECT_TRUE(f.Attempts().empty());
}

}  // namespace
}  // namespace ulak::store::testing
