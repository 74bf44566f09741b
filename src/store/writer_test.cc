// The writer's batch hand-offs (issue 17) on SQLite: a Publish callback can defer work to the
// end of its commit's callbacks, and several outcomes go in with one RecordBatch. Fuller
// rounds: outcomes alone linger for a publish to share its commit, counted through
// FaultyStore (no fault injected), without sleeps or timing assertions.
#include "store/writer.h"

#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "store/faulty_store.h"
#include "store/sqlite/sqlite_store.h"
#include "support/sample_rows.h"
#include "support/temp_dir.h"

namespace ulak::store {
namespace {

class WriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = sqlite::SqliteStore::Open(dir_.path() + "/writer.db").value();
    ASSERT_TRUE(store_->Migrate().ok());
    org_ = Id();
    ASSERT_TRUE(store_->CreateOrganization({org_, "org", clock_.Now()}, {Id(), org_, "h", "p", clock_.Now()}).ok());
    webhook_ = Id();
    Webhook w = ulak::testing::SampleWebhook(webhook_, org_, clock_.Now());
    ASSERT_TRUE(store_->CreateWebhook(w).ok());
    writer_ = std::make_unique<StoreWriter>(*store_);
  }
  void TearDown() override { writer_->Stop(); }

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
  AttemptOutcome Outcome(const std::string& delivery_id) {
    AttemptOutcome o;
    o.attempt.id = Id();
    o.attempt.delivery_id = delivery_id;
    o.attempt.organization_id = org_;
    o.attempt.webhook_id = webhook_;
    o.attempt.event_type = "order.created";
    o.attempt.event_ref = "ref";
    o.attempt.request_url = "https://example.com/hook";
    o.attempt.status = o.delivery_status = DeliveryStatus::kSuccess;
    o.attempt.attempt_number = o.attempts = 1;
    o.attempt.created_at = o.next_attempt_at = clock_.Now();
    return o;
  }
  std::string Id() {
    clock_.Advance(Millis(1));
    return NewId(clock_, random_);
  }

  testing::TempDir dir_;
  ManualClock clock_;
  SeededRandomForTest random_{21};
  std::unique_ptr<sqlite::SqliteStore> store_;
  std::unique_ptr<StoreWriter> writer_;
  std::string org_, webhook_;
};

TEST_F(WriterTest, AfterCommitCallbacksRunOnceAfterEveryCallbackOfTheCommit) {
  std::mutex mu;
  std::vector<std::string> order;  // GUARDED_BY(mu)
  auto note = [&](std::string what) {
    std::lock_guard lock(mu);
    order.push_back(std::move(what));
  };
  std::promise<void> handed_over;
  writer_->Publish(NewPublish(), [&](Result<PublishResult>&& r) {
    EXPECT_TRUE(r.ok());
    EXPECT_TRUE(writer_->InCommitCallbacks());
    note("done");
    writer_->AfterCommitCallbacks([&] {
      note("after");
      handed_over.set_value();
    });
  });
  handed_over.get_future().get();
  writer_->Flush();
  // A later commit does not run it again.
  std::promise<void> second;
  writer_->Publish(NewPublish(), [&](Result<PublishResult>&&) { second.set_value(); });
  second.get_future().get();
  writer_->Flush();
  std::lock_guard lock(mu);
  EXPECT_EQ(order, (std::vector<std::string>{"done", "after"}));
}

TEST_F(WriterTest, RecordBatchStoresEveryOutcome) {
  std::vector<std::string> deliveries;
  for (int i = 0; i < 3; ++i) {
    PublishRequest p = NewPublish();
    deliveries.push_back(p.deliveries.front().id);
    std::promise<void> stored;
    writer_->Publish(std::move(p), [&](Result<PublishResult>&& r) {
      EXPECT_TRUE(r.ok());
      stored.set_value();
    });
    stored.get_future().get();
  }
  std::vector<AttemptOutcome> batch;
  for (const std::string& id : deliveries) batch.push_back(Outcome(id));
  writer_->RecordBatch(std::move(batch));
  writer_->RecordBatch({});  // nothing: no hand-off
  writer_->Flush();
  AttemptFilter f;
  f.organization_id = org_;
  f.limit = 100;
  EXPECT_EQ(store_->ListAttempts(f)->size(), 3u);
  EXPECT_TRUE(store_->ListPendingDeliveries("", 10)->empty());
}

TEST_F(WriterTest, PublishRefusedWhileStoppingIsAnsweredAtOnceOutsideACommit) {
  writer_->Stop();
  bool answered = false;
  bool in_commit = true;
  writer_->Publish(NewPublish(), [&](Result<PublishResult>&& r) {
    answered = true;
    in_commit = writer_->InCommitCallbacks();
    EXPECT_EQ(r.status().code(), ErrorCode::kUnavailable);
  });
  EXPECT_TRUE(answered);
  EXPECT_FALSE(in_commit);
  EXPECT_FALSE(writer_->InCommitCallbacks());
}

// A linger far longer than any test: whatever commits did so because of what the writer
// was given, never because the linger ran out.
class WriterLingerTest : public WriterTest {
 protected:
  void SetUp() override {
    WriterTest::SetUp();
    writer_->Stop();
    auto inner = sqlite::SqliteStore::Open(dir_.path() + "/writer.db").value();
    faulty_ = std::make_unique<FaultyStore>(std::move(inner));
    StoreWriterOptions options;
    options.outcome_linger = std::chrono::hours(1);
    writer_ = std::make_unique<StoreWriter>(*faulty_, options);
  }
  // Publishes one event through the writer and waits for its answer; returns its delivery.
  std::string PublishOne() {
    PublishRequest p = NewPublish();
    std::string delivery = p.deliveries.front().id;
    std::promise<void> stored;
    writer_->Publish(std::move(p), [&](Result<PublishResult>&& r) {
      EXPECT_TRUE(r.ok());
      stored.set_value();
    });
    stored.get_future().get();
    return delivery;
  }
  size_t Attempts() {
    AttemptFilter f;
    f.organization_id = org_;
    f.limit = 100;
    return store_->ListAttempts(f)->size();
  }

  std::unique_ptr<FaultyStore> faulty_;
};

TEST_F(WriterLingerTest, OutcomesRideInTheNextPublishCommit) {
  const std::string first = PublishOne();
  const std::string second = PublishOne();
  const int64_t before = faulty_->committed_writes();
  writer_->Record(Outcome(first));
  writer_->RecordBatch({Outcome(second)});
  PublishOne();  // answered: its commit is done, and it carried the outcomes
  EXPECT_EQ(faulty_->committed_writes(), before + 1) << "outcomes and publish in one commit";
  EXPECT_EQ(Attempts(), 2u);
}

TEST_F(WriterLingerTest, FlushDoesNotWaitForTheLinger) {
  const std::string delivery = PublishOne();
  const int64_t before = faulty_->committed_writes();
  writer_->Record(Outcome(delivery));
  writer_->Flush();  // would block for the hour-long linger if it waited for it
  EXPECT_EQ(faulty_->committed_writes(), before + 1);
  EXPECT_EQ(Attempts(), 1u);
  // The writer lingers again afterwards, and a publish still ends the linger.
  writer_->Record(Outcome(delivery));
  PublishOne();
  EXPECT_EQ(faulty_->committed_writes(), before + 2);
  EXPECT_EQ(Attempts(), 2u);
}

TEST_F(WriterLingerTest, StopCommitsLingeringOutcomesWithoutWaiting) {
  const std::string delivery = PublishOne();
  writer_->Record(Outcome(delivery));
  writer_->Stop();
  EXPECT_EQ(Attempts(), 1u);
}

TEST_F(WriterLingerTest, AFullBatchOfOutcomesDoesNotWaitForAPublish) {
  writer_->Stop();
  StoreWriterOptions options;
  options.max_batch = 2;
  options.outcome_linger = std::chrono::hours(1);
  writer_ = std::make_unique<StoreWriter>(*faulty_, options);
  const std::string delivery = PublishOne();
  const int64_t before = faulty_->committed_writes();
  writer_->RecordBatch({Outcome(delivery), Outcome(delivery)});
  // No Flush: the two outcomes fill a batch, so the writer commits them on its own.
  while (faulty_->committed_writes() == before) std::this_thread::yield();
  EXPECT_EQ(Attempts(), 2u);
}

// The group commit window, far longer than any test, after a round of one publish. A round
// holds two publishes at most, so a round that begins with one waits for a second and one
// that begins with two does not wait: the same whichever way the threads interleave.
class WriterWindowTest : public WriterLingerTest {
 protected:
  void SetUp() override {
    WriterLingerTest::SetUp();
    writer_->Stop();
    StoreWriterOptions options;
    options.outcome_linger = std::chrono::hours(1);
    options.publish_window = std::chrono::hours(1);
    options.publish_window_min = 1;
    options.max_batch = 2;
    writer_ = std::make_unique<StoreWriter>(*faulty_, options);
  }
};

TEST_F(WriterWindowTest, AfterALargeRoundAPublishWaitsForAsManyMore) {
  PublishOne();  // a round of one publish: the next round waits for two
  const int64_t before = faulty_->committed_writes();
  std::promise<void> first, second;
  writer_->Publish(NewPublish(), [&](Result<PublishResult>&& r) {
    EXPECT_TRUE(r.ok());
    first.set_value();
  });
  writer_->Publish(NewPublish(), [&](Result<PublishResult>&& r) {
    EXPECT_TRUE(r.ok());
    second.set_value();
  });
  first.get_future().get();
  second.get_future().get();
  EXPECT_EQ(faulty_->committed_writes(), before + 1) << "both publishes in one commit";
}

TEST_F(WriterWindowTest, FlushDoesNotWaitForTheWindow) {
  PublishOne();
  const int64_t before = faulty_->committed_writes();
  bool answered = false;
  writer_->Publish(NewPublish(), [&](Result<PublishResult>&& r) {
    EXPECT_TRUE(r.ok());
    answered = true;
  });
  writer_->Flush();  // would block for the hour-long window if it waited for it
  EXPECT_TRUE(answered);
  EXPECT_EQ(faulty_->committed_writes(), before + 1);
}

}  // namespace
}  // namespace ulak::store
