// The real engine, writer and curl transport, with FaultyStore around SQLite and
// FaultyTransport around curl, delivering to a real local receiver (issue 15). Whatever the
// fault: the delivery ends delivered, no attempt row is written twice, and the engine and
// writer recover on their own once the fault clears. Retries are reached by moving the
// manual clock, never by sleeping through their delays.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <functional>
#include <set>
#include <thread>

#include "common/ids.h"
#include "delivery/engine.h"
#include "delivery/faulty_transport.h"
#include "delivery/publisher.h"
#include "store/faulty_store.h"
#include "store/sqlite/sqlite_store.h"
#include "support/sink.h"
#include "support/temp_dir.h"

namespace ulak::delivery {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class EngineFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto sqlite = store::sqlite::SqliteStore::Open(dir_.path() + "/faults.db");
    ASSERT_TRUE(sqlite.ok());
    ASSERT_TRUE((*sqlite)->Migrate().ok());
    store_ = std::make_unique<store::FaultyStore>(std::move(sqlite).value());
    store::Organization org{NewId(clock_, random_), "org", clock_.Now()};
    org_ = org.id;
    ASSERT_TRUE(store_->CreateOrganization(org, {NewId(clock_, random_), org.id, "h", "p", clock_.Now()}).ok());
    store::Webhook w;
    w.id = NewId(clock_, random_);
    w.organization_id = org_;
    w.name = "receiver";
    w.url = sink_.Url("/hook");
    w.secret_key = std::string(64, 'b');
    w.events_json = R"(["*"])";
    w.custom_headers_json = "{}";
    w.retry_policy_json = R"({"kind":"fixed","delays_s":[60,60,60]})";
    w.max_retries = 3;
    w.timeout_seconds = 5;
    w.created_at = w.updated_at = clock_.Now();
    ASSERT_TRUE(store_->CreateWebhook(w).ok());
    transport_ = std::make_unique<FaultyTransport>(MakeCurlTransport({}));
    writer_ = std::make_unique<store::StoreWriter>(*store_);
    engine_ = std::make_unique<DeliveryEngine>(*store_, *writer_, *transport_, clock_, random_,
                                               EngineOptions{milliseconds(5)});
    ASSERT_TRUE(engine_->Start().ok());
    publisher_ = std::make_unique<Publisher>(*store_, *writer_, *engine_, clock_, random_);
  }
  void TearDown() override {
    if (engine_) engine_->Stop();
    if (transport_) transport_->Stop();
    if (writer_) writer_->Stop();
  }

  // `on_committed` runs in the publish's callback, on the writer's thread: before the writer
  // can commit anything else (such as this delivery's outcome).
  Result<store::PublishResult> Publish(const std::function<void()>& on_committed = nullptr) {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<Result<store::PublishResult>> got;
    PublishInput in;
    in.organization_id = org_;
    in.event_type = "order.created";
    in.data = boost::json::object{{"n", 1}};
    in.metadata = boost::json::object();
    publisher_->Publish(std::move(in), [&](Result<store::PublishResult>&& r) {
      if (on_committed) on_committed();
      std::lock_guard lock(mu);
      got = std::move(r);
      cv.notify_all();
    });
    std::unique_lock lock(mu);
    cv.wait_for(lock, seconds(10), [&] { return got.has_value(); });
    return got ? *got : Result<store::PublishResult>(Internal("publish never answered"));
  }
  // Attempts as stored (read past the fault wrapper), waiting (bounded) for at least n.
  std::vector<store::Attempt> WaitForAttempts(size_t n) {
    std::vector<store::Attempt> out;
    const auto deadline = std::chrono::steady_clock::now() + seconds(20);
    do {
      writer_->Flush();
      store::AttemptFilter f;
      f.organization_id = org_;
      f.limit = 100;
      out = store_->inner().ListAttempts(f).value();
    } while (out.size() < n && std::chrono::steady_clock::now() < deadline);
    return out;
  }
  static void ExpectNoRowTwice(const std::vector<store::Attempt>& attempts) {
    std::set<std::string> ids;
    std::set<int> numbers;
    for (const auto& a : attempts) {
      EXPECT_TRUE(ids.insert(a.id).second) << "attempt " << a.id << " stored twice";
      EXPECT_TRUE(numbers.insert(a.attempt_number).second) << "attempt number " << a.attempt_number << " twice";
    }
  }

  ulak::testing::TempDir dir_;
  ulak::testing::HttpSink sink_;
  ManualClock clock_;
  SeededRandomForTest random_{15};
  std::unique_ptr<store::FaultyStore> store_;
  std::unique_ptr<FaultyTransport> transport_;
  std::unique_ptr<store::StoreWriter> writer_;
  std::unique_ptr<DeliveryEngine> engine_;
  std::unique_ptr<Publisher> publisher_;
  std::string org_;
};

struct NetworkCase {
  const char* name;
  NetworkFault fault;
  milliseconds delay;
  size_t receiver_saw_first;  // requests the receiver got from the faulted try
  bool first_try_fails;
};

void PrintTo(const NetworkCase& c, std::ostream* os) { *os << c.name; }

class EngineNetworkFaultsTest : public EngineFaultsTest, public ::testing::WithParamInterface<NetworkCase> {};

TEST_P(EngineNetworkFaultsTest, TheDeliveryEndsDeliveredAndEachTryIsLoggedOnce) {
  const NetworkCase& c = GetParam();
  transport_->Inject(c.fault, 1, c.delay);
  ASSERT_TRUE(Publish().ok());
  std::vector<store::Attempt> first = WaitForAttempts(1);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(sink_.Count("/hook"), c.receiver_saw_first);
  if (!c.first_try_fails) {
    EXPECT_EQ(first[0].status, store::DeliveryStatus::kSuccess);
    EXPECT_GE(first[0].response_time_ms, c.delay.count());
    return;
  }
  EXPECT_EQ(first[0].status, store::DeliveryStatus::kRetrying) << first[0].error_message;
  EXPECT_FALSE(first[0].error_message.empty());
  clock_.Advance(seconds(60));  // the retry is due: the engine sends it by itself
  ASSERT_TRUE(sink_.WaitForCount("/hook", c.receiver_saw_first + 1));
  std::vector<store::Attempt> all = WaitForAttempts(2);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].status, store::DeliveryStatus::kSuccess);  // newest first
  ExpectNoRowTwice(all);
  // A receiver that saw the faulted try gets the same webhook-id again: it can dedupe.
  const std::vector<ulak::testing::SinkRequest> got = sink_.Requests("/hook");
  if (got.size() == 2) {
    EXPECT_EQ(got[0].Header("webhook-id"), got[1].Header("webhook-id"));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Faults, EngineNetworkFaultsTest,
    ::testing::Values(NetworkCase{"ResetMidBody", NetworkFault::kResetMidBody, milliseconds(0), 1, true},
                      NetworkCase{"TlsFailure", NetworkFault::kTlsFailure, milliseconds(0), 0, true},
                      NetworkCase{"OkAfterTimeout", NetworkFault::kOkAfterTimeout, milliseconds(0), 1, true},
                      NetworkCase{"SlowFirstByteBeyondTimeout", NetworkFault::kSlowFirstByte, milliseconds(6000), 1, true},
                      NetworkCase{"SlowFirstByteWithinTimeout", NetworkFault::kSlowFirstByte, milliseconds(3000), 1, false}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(EngineFaultsTest, AnOutcomeCommitThatReportsFailureIsLoggedOnce) {
  // The next write: this delivery's outcome (armed before the writer's next round, so a fast
  // delivery cannot have its outcome committed first).
  ASSERT_TRUE(Publish([&] { store_->Inject(store::StoreFault::kCommitThenFail, 1); }).ok());
  std::vector<store::Attempt> attempts = WaitForAttempts(1);
  writer_->Flush();
  attempts = WaitForAttempts(1);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].status, store::DeliveryStatus::kSuccess);
  EXPECT_EQ(store_->injected(), 1);
  EXPECT_EQ(sink_.Count("/hook"), 1u);
  EXPECT_TRUE(writer_->LastWrite().ok());
}

TEST_F(EngineFaultsTest, OutcomesWaitOutAFullDiskAndAreLoggedOnceItClears) {
  // Armed from the publish's callback (writer thread), before the writer's next round: the
  // delivery, now sent from the loop as soon as the batch is posted, cannot have its outcome
  // committed first.
  ASSERT_TRUE(Publish([&] { store_->Inject(store::StoreFault::kDiskFull); }).ok());
  ASSERT_TRUE(sink_.WaitForCount("/hook", 1));
  // The outcome cannot be written yet: the writer keeps it and retries.
  const auto deadline = std::chrono::steady_clock::now() + seconds(20);
  // Wait for the writer to have seen the failure (LastWrite is set after the injected call
  // returns, so waiting on the injection count alone races it).
  while (writer_->LastWrite().ok() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  EXPECT_GT(store_->injected(), 0);
  EXPECT_EQ(writer_->LastWrite().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(Publish().status().code(), ErrorCode::kUnavailable);  // never accepted while it lasts
  store_->Clear();
  std::vector<store::Attempt> attempts = WaitForAttempts(1);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].status, store::DeliveryStatus::kSuccess);
  EXPECT_EQ(sink_.Count("/hook"), 1u);
  EXPECT_TRUE(writer_->LastWrite().ok());
  ASSERT_TRUE(Publish().ok());  // and publishes are accepted again
  ASSERT_TRUE(sink_.WaitForCount("/hook", 2));
}

}  // namespace
}  // namespace ulak::delivery
