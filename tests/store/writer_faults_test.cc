// The StoreWriter over FaultyStore (issue 15): under each injected store fault, on SQLite
// and on PostgreSQL, nothing acknowledged is lost, no attempt row is written twice, and the
// writer recovers on its own once the fault clears. And a poison outcome (one the store
// rejects forever) is parked as a dead letter instead of being retried forever.
#include <future>

#include "common/clock.h"
#include "common/ids.h"
#include "common/metrics.h"
#include "store/faulty_store.h"
#include "store/sqlite/sqlite_store.h"
#include "store/writer.h"
#include "support/postgres_cluster.h"
#include "support/sample_rows.h"
#include "support/temp_dir.h"

#include <gtest/gtest.h>

namespace ulak::store {
namespace {

std::unique_ptr<Store> OpenReal(const std::string& kind) {
  if (kind == "sqlite") {
    static ulak::testing::TempDir dir;
    static int counter = 0;
    Result<std::unique_ptr<sqlite::SqliteStore>> s =
        sqlite::SqliteStore::Open(dir.path() + "/writer_faults_" + std::to_string(++counter) + ".db");
    if (!s.ok() || !(*s)->Migrate().ok()) return nullptr;
    return std::move(s).value();
  }
  Result<ulak::testing::PostgresCluster*> cluster = ulak::testing::PostgresCluster::Shared();
  if (!cluster.ok()) return nullptr;
  Result<std::string> conninfo = (*cluster)->CreateDatabase();
  if (!conninfo.ok()) return nullptr;
  Result<std::unique_ptr<Store>> s = OpenStore(*conninfo);
  if (!s.ok() || !(*s)->Migrate().ok()) return nullptr;
  return std::move(s).value();
}

class WriterFaultsTest : public ::testing::TestWithParam<std::tuple<std::string, StoreFault>> {
 protected:
  void SetUp() override {
    std::unique_ptr<Store> real = OpenReal(std::get<0>(GetParam()));
    ASSERT_NE(real, nullptr) << "cannot open the " << std::get<0>(GetParam()) << " store";
    faulty_ = std::make_unique<FaultyStore>(std::move(real));
    org_ = Id();
    ASSERT_TRUE(faulty_->CreateOrganization({org_, "org", clock_.Now()},
                                            {Id(), org_, "hash-" + org_, "ulak_x", clock_.Now()}).ok());
    webhook_ = Id();
    Webhook w = ulak::testing::SampleWebhook(webhook_, org_, clock_.Now());
    ASSERT_TRUE(faulty_->CreateWebhook(w).ok());
  }

  PublishRequest NewPublish() {
    PublishRequest r;
    r.event.id = Id();
    r.event.organization_id = org_;
    r.event.event_type = "order.created";
    r.event.payload = "{}";
    r.event.created_at = clock_.Now();
    Delivery d;
    d.id = Id();
    d.event_id = r.event.id;
    d.webhook_id = webhook_;
    d.organization_id = org_;
    d.next_attempt_at = d.created_at = clock_.Now();
    r.deliveries.push_back(d);
    return r;
  }
  AttemptOutcome Outcome(const std::string& delivery_id, int n) {
    AttemptOutcome o;
    o.attempt.id = Id();
    o.attempt.delivery_id = delivery_id;
    o.attempt.organization_id = org_;
    o.attempt.webhook_id = webhook_;
    o.attempt.event_type = "order.created";
    o.attempt.event_ref = "ref";
    o.attempt.request_url = "https://example.com/hook";
    o.attempt.status = DeliveryStatus::kRetrying;
    o.attempt.attempt_number = n;
    o.attempt.created_at = clock_.Now();
    o.delivery_status = DeliveryStatus::kRetrying;
    o.attempts = n;
    o.next_attempt_at = clock_.Now();
    return o;
  }
  // Publishes through the writer and waits for its answer.
  Result<PublishResult> PublishVia(StoreWriter& writer, PublishRequest request) {
    auto answer = std::make_shared<std::promise<Result<PublishResult>>>();
    std::future<Result<PublishResult>> got = answer->get_future();
    writer.Publish(std::move(request), [answer](Result<PublishResult>&& r) { answer->set_value(std::move(r)); });
    return got.get();
  }
  size_t AttemptRows() {
    AttemptFilter f;
    f.organization_id = org_;
    f.limit = 1000;
    Result<std::vector<Attempt>> got = faulty_->inner().ListAttempts(f);
    EXPECT_TRUE(got.ok());
    return got.ok() ? got->size() : 0;
  }
  std::string Id() {
    clock_.Advance(Millis(1));
    return NewId(clock_, random_);
  }

  ManualClock clock_;
  SeededRandomForTest random_{15};
  std::unique_ptr<FaultyStore> faulty_;
  std::string org_, webhook_;
};

TEST_P(WriterFaultsTest, NothingAcknowledgedIsLostNoAttemptIsWrittenTwiceAndTheWriterRecovers) {
  const StoreFault fault = std::get<1>(GetParam());
  PublishRequest seed = NewPublish();
  ASSERT_TRUE(faulty_->Publish({seed}).ok());
  const std::string delivery = seed.deliveries[0].id;

  StoreWriter writer(*faulty_);
  faulty_->Inject(fault);
  for (int i = 1; i <= 3; ++i) writer.Record(Outcome(delivery, i));
  std::vector<std::pair<PublishRequest, Result<PublishResult>>> answered;
  for (int i = 0; i < 4; ++i) {
    PublishRequest r = NewPublish();
    answered.emplace_back(r, PublishVia(writer, r));
  }
  EXPECT_GT(faulty_->injected(), 0);
  EXPECT_EQ(writer.LastWrite().code(), ErrorCode::kUnavailable) << "readiness must see the store cannot write";
  for (auto& [request, result] : answered) {
    // While the fault lasts nothing is acknowledged (the API answers 503), and what is not
    // acknowledged is not stored, except by a commit that happened but reported failure.
    EXPECT_EQ(result.status().code(), ErrorCode::kUnavailable);
    const bool stored = faulty_->inner().GetEvent("", request.event.id).ok();
    EXPECT_EQ(stored, fault == StoreFault::kCommitThenFail);
  }

  faulty_->Clear();
  writer.Flush();  // the outcomes kept during the fault are committed now, by the writer alone
  EXPECT_TRUE(writer.LastWrite().ok());
  EXPECT_EQ(AttemptRows(), 3u) << "an attempt row lost or written twice";
  Result<PendingDelivery> d = faulty_->inner().GetDelivery("", delivery);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->delivery.attempts, 3);

  PublishRequest after = NewPublish();
  Result<PublishResult> ok = PublishVia(writer, after);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE(faulty_->inner().GetEvent("", after.event.id).ok());
  writer.Stop();
}

// The same fixture, with no fault injected.
class PoisonOutcomeTest : public WriterFaultsTest {};

TEST_P(PoisonOutcomeTest, APoisonOutcomeIsParkedAndTheOthersAreStored) {
  PublishRequest seed = NewPublish();
  ASSERT_TRUE(faulty_->Publish({seed}).ok());
  const std::string delivery = seed.deliveries[0].id;
  const std::string before = Metrics::Instance().Render(0);

  StoreWriter writer(*faulty_, 512, /*max_outcome_tries=*/3);
  AttemptOutcome poison = Outcome("no-such-delivery", 1);  // its foreign key fails forever
  writer.Record(Outcome(delivery, 1));
  writer.Record(poison);
  writer.Record(Outcome(delivery, 2));
  writer.Flush();
  EXPECT_EQ(AttemptRows(), 2u);
  Result<std::vector<DeadOutcome>> dead = faulty_->inner().ListDeadOutcomes(10);
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].outcome.attempt.id, poison.attempt.id);
  EXPECT_EQ((*dead)[0].tries, 3);
  EXPECT_FALSE((*dead)[0].error.empty());
  EXPECT_NE(Metrics::Instance().Render(0).find("ulak_outcomes_dead_lettered_total"), std::string::npos);
  EXPECT_NE(before, Metrics::Instance().Render(0));
  // The writer moved on: the next outcome is stored at once.
  writer.Record(Outcome(delivery, 3));
  writer.Flush();
  EXPECT_EQ(AttemptRows(), 3u);
  EXPECT_TRUE(writer.LastWrite().ok());
}

std::string FaultName(StoreFault f) {
  switch (f) {
    case StoreFault::kNone: return "None";
    case StoreFault::kDiskFull: return "DiskFull";
    case StoreFault::kBusy: return "Busy";
    case StoreFault::kIoErrorOnCommit: return "IoErrorOnCommit";
    case StoreFault::kConnectionLost: return "ConnectionLost";
    case StoreFault::kCommitThenFail: return "CommitThenFail";
  }
  return "?";
}

INSTANTIATE_TEST_SUITE_P(Faults, WriterFaultsTest,
                         ::testing::Combine(::testing::Values("sqlite", "postgres"),
                                            ::testing::Values(StoreFault::kDiskFull,
                                                              StoreFault::kBusy, StoreFault::kIoErrorOnCommit,
                                                              StoreFault::kConnectionLost,
                                                              StoreFault::kCommitThenFail)),
                         [](const auto& info) {
                           return std::get<0>(info.param) + "_" + FaultName(std::get<1>(info.param));
                         });
INSTANTIATE_TEST_SUITE_P(Writer, PoisonOutcomeTest,
                         ::testing::Combine(::testing::Values("sqlite", "postgres"), ::testing::Values(StoreFault::kNone)),
                         [](const auto& info) { return std::get<0>(info.param); });

}  // namespace
}  // namespace ulak::store
