// The real engine, store and writer over a fake transport and a manual clock: retry timing
// is checked by moving the clock, never by sleeping through real delays.
#include "delivery/engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>

#include "common/ids.h"
#include "delivery/fake_transport_for_test.h"
#include "delivery/publisher.h"
#include "store/sqlite/sqlite_store.h"
#include "support/temp_dir.h"

namespace ulak::delivery {
namespace {

using std::chrono::seconds;

using testing::FakeTransport;
using testing::Header;

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = store::sqlite::SqliteStore::Open(dir_.path() + "/engine.db").value();
    ASSERT_TRUE(store_->Migrate().ok());
    store::Organization org{NewId(clock_, random_), "org", clock_.Now()};
    org_ = org.id;
    ASSERT_TRUE(store_->CreateOrganization(org, {NewId(clock_, random_), org.id, "h", "p", clock_.Now()}).ok());
    writer_ = std::make_unique<store::StoreWriter>(*store_);
    transport_.SetDrive([this] {
      if (engine_) engine_->RunUntilIdleForTest();
    });
  }
  void TearDown() override {
    if (engine_) engine_->Stop();
    writer_->Stop();
  }
  void StartEngine() {
    engine_ = std::make_unique<DeliveryEngine>(*store_, *writer_, transport_, clock_, random_,
                                               EngineOptions{std::chrono::milliseconds(5)});
    ASSERT_TRUE(engine_->Start().ok());
    publisher_ = std::make_unique<Publisher>(*store_, *writer_, *engine_, clock_, random_);
  }
  std::string AddWebhook(const std::string& retry_policy_json, int max_retries = 3, int max_in_flight = 8) {
    store::Webhook w;
    w.id = NewId(clock_, random_);
    w.organization_id = org_;
    w.name = "w";
    w.url = "http://127.0.0.1:1/" + w.id;
    w.secret_key = std::string(64, 'b');
    w.events_json = R"(["*"])";
    w.custom_headers_json = R"({"X-Webhook-Secret":"n8n"})";
    w.retry_policy_json = retry_policy_json;
    w.max_retries = max_retries;
    w.max_in_flight = max_in_flight;
    w.created_at = w.updated_at = clock_.Now();
    EXPECT_TRUE(store_->CreateWebhook(w).ok());
    if (publisher_) publisher_->InvalidateSubscriptions(org_);  // as the API does
    return w.id;
  }
  void Publish(const std::string& type = "order.created") {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    PublishInput in;
    in.organization_id = org_;
    in.event_type = type;
    in.data = boost::json::object{{"n", 1}};
    in.metadata = boost::json::object();
    publisher_->Publish(std::move(in), [&](Result<store::PublishResult>&& r) {
      EXPECT_TRUE(r.ok());
      std::lock_guard lock(mu);
      done = true;
      cv.notify_all();
    });
    std::unique_lock lock(mu);
    cv.wait_for(lock, seconds(10), [&] { return done; });
  }
  std::vector<store::Attempt> Attempts() {
    writer_->Flush();
    store::AttemptFilter f;
    f.organization_id = org_;
    f.limit = 1000;
    return store_->ListAttempts(f).value();
  }

  testing::TempDir dir_;
  ManualClock clock_;
  SeededRandomForTest random_{3};
  std::unique_ptr<store::sqlite::SqliteStore> store_;
  std::unique_ptr<store::StoreWriter> writer_;
  FakeTransport transport_;
  std::unique_ptr<DeliveryEngine> engine_;
  std::unique_ptr<Publisher> publisher_;
  std::string org_;
};

TEST_F(EngineTest, Seed001ScheduleRetriesAt60_360_2160ThenFails) {
  StartEngine();
  AddWebhook(R"({"kind":"fixed","delays_s":[60,300,1800]})");
  const TimePoint start = clock_.Now();
  Publish();
  ASSERT_TRUE(transport_.WaitForSent(1));
  const std::string webhook_id = Header(transport_.Request(0), "webhook-id");
  const std::vector<int> retry_at_s = {60, 360, 2160};
  for (size_t i = 0; i < retry_at_s.size(); ++i) {
    transport_.Complete(i, 500);
    // Just before its time the retry has not gone out; at its time it has.
    clock_.Set(start + seconds(retry_at_s[i] - 1));
    engine_->RunUntilIdleForTest();
    EXPECT_EQ(transport_.SentCount(), i + 1) << "retry " << i + 1 << " went out early";
    clock_.Set(start + seconds(retry_at_s[i]));
    ASSERT_TRUE(transport_.WaitForSent(i + 2));
    EXPECT_EQ(Header(transport_.Request(i + 1), "webhook-id"), webhook_id);  // stable across tries
  }
  transport_.Complete(3, 503);
  const std::vector<store::Attempt> attempts = Attempts();
  ASSERT_EQ(attempts.size(), 4u);
  EXPECT_EQ(attempts[0].status, store::DeliveryStatus::kFailed);
  EXPECT_EQ(attempts[0].attempt_number, 4);
  EXPECT_EQ(attempts[1].status, store::DeliveryStatus::kRetrying);
  EXPECT_EQ(ToUnixMillis(*attempts[1].next_retry_at), ToUnixMillis(start + seconds(2160)));
  EXPECT_TRUE(store_->ListPendingDeliveries("", 10)->empty());
}

TEST_F(EngineTest, RequestCarriesBodySignaturesAndCustomHeaders) {
  StartEngine();
  AddWebhook(R"({"kind":"fixed","delays_s":[60]})");
  Publish();
  ASSERT_TRUE(transport_.WaitForSent(1));
  const OutgoingRequest r = transport_.Request(0);
  EXPECT_NE(r.Body().find(R"("event":"order.created")"), std::string::npos);
  EXPECT_EQ(Header(r, "Content-Type"), "application/json");
  EXPECT_EQ(Header(r, "X-Webhook-Secret"), "n8n");
  EXPECT_EQ(Header(r, "X-Webhook-Signature").size(), 64u);
  EXPECT_EQ(Header(r, "webhook-signature").rfind("v1,", 0), 0u);
  EXPECT_EQ(Header(r, "webhook-timestamp"), std::to_string(clock_.NowUnixSeconds()));
  transport_.Complete(0, 204);
  ASSERT_EQ(Attempts().size(), 1u);
  EXPECT_EQ(Attempts()[0].status, store::DeliveryStatus::kSuccess);
}

TEST_F(EngineTest, StuckWebhookFillsOnlyItsOwnInFlightCap) {
  StartEngine();
  const std::string stuck = AddWebhook(R"({"kind":"fixed","delays_s":[60]})", 3, /*max_in_flight=*/2);
  for (int i = 0; i < 5; ++i) Publish("order.created");
  // Two to the stuck webhook (its cap) and nothing more to it while they hang.
  ASSERT_TRUE(transport_.WaitForSent(2));
  engine_->RunUntilIdleForTest();
  EXPECT_EQ(transport_.SentCount(), 2u);
  // A healthy webhook added now is served at once, though the stuck one has a backlog.
  AddWebhook(R"({"kind":"fixed","delays_s":[60]})");
  for (int i = 0; i < 3; ++i) Publish("user.created");
  ASSERT_TRUE(transport_.WaitForSent(2 + 3 * 2 - 3));  // 3 to the healthy one (the stuck is capped)
  size_t to_stuck = 0;
  for (size_t i = 0; i < transport_.SentCount(); ++i) to_stuck += transport_.Request(i).url.find(stuck) != std::string::npos;
  EXPECT_EQ(to_stuck, 2u);
  // Finishing one stuck try frees one slot.
  transport_.Complete(0, 200);
  ASSERT_TRUE(transport_.WaitForSent(6));
}

TEST_F(EngineTest, PendingDeliveriesAreRecoveredAtStart) {
  StartEngine();
  AddWebhook(R"({"kind":"fixed","delays_s":[60]})");
  Publish();
  Publish();
  ASSERT_TRUE(transport_.WaitForSent(2));
  // Crash: the engine stops with both tries in flight and nothing recorded.
  engine_->Stop();
  const std::string id0 = Header(transport_.Request(0), "webhook-id");
  engine_.reset();
  StartEngine();
  ASSERT_TRUE(transport_.WaitForSent(4));
  std::set<std::string> resent = {Header(transport_.Request(2), "webhook-id"), Header(transport_.Request(3), "webhook-id")};
  EXPECT_EQ(resent.count(id0), 1u);  // the same webhook-id after restart
}

TEST_F(EngineTest, RunDueRetriesNowSendsWaitingRetriesAtOnce) {
  StartEngine();
  AddWebhook(R"({"kind":"fixed","delays_s":[3600]})");
  Publish();
  ASSERT_TRUE(transport_.WaitForSent(1));
  transport_.Complete(0, 500);
  writer_->Flush();
  // The fake completes on this thread: the retry is in the timer heap once Complete returns.
  EXPECT_EQ(engine_->RunDueRetriesNow(), 1);
  ASSERT_TRUE(transport_.WaitForSent(2));
}

TEST_F(EngineTest, RetryDisabledFailsAfterOneTry) {
  StartEngine();
  const std::string id = AddWebhook(R"({"kind":"fixed","delays_s":[1]})");
  store::Webhook w = store_->GetWebhook("", id).value();
  w.retry_enabled = false;
  ASSERT_TRUE(store_->UpdateWebhook(w).ok());
  Publish();
  ASSERT_TRUE(transport_.WaitForSent(1));
  transport_.Complete(0, 0, TransportError::kConnect);
  clock_.Advance(seconds(10));
  engine_->RunUntilIdleForTest();
  EXPECT_EQ(transport_.SentCount(), 1u);
  ASSERT_EQ(Attempts().size(), 1u);
  EXPECT_EQ(Attempts()[0].status, store::DeliveryStatus::kFailed);
  EXPECT_EQ(Attempts()[0].error_message, "connection refused");
}

TEST_F(EngineTest, RemovedWebhookGetsNoMoreTries) {
  StartEngine();
  const std::string id = AddWebhook(R"({"kind":"fixed","delays_s":[60]})");
  Publish();
  ASSERT_TRUE(transport_.WaitForSent(1));
  transport_.Complete(0, 500);
  writer_->Flush();
  ASSERT_TRUE(store_->DeleteWebhook(org_, id, clock_.Now()).ok());
  engine_->RemoveWebhook(id);
  clock_.Advance(seconds(120));
  engine_->RunUntilIdleForTest();
  EXPECT_EQ(transport_.SentCount(), 1u);
  EXPECT_EQ(engine_->HeldCount(), 0u);
}

}  // namespace
}  // namespace ulak::delivery

namespace ulak::delivery {
namespace {

class EngineOperationsTest : public EngineTest {
 protected:
  void StartEngineWith(EngineOptions options) {
    options.tick = std::chrono::milliseconds(5);
    engine_ = std::make_unique<DeliveryEngine>(*store_, *writer_, transport_, clock_, random_, options);
    engine_->SetDisableHandler([this](const ConfigPtr& config, const std::string& reason) {
      std::lock_guard lock(mu_);
      disabled_.emplace_back(config->record.id, reason);
    });
    ASSERT_TRUE(engine_->Start().ok());
    publisher_ = std::make_unique<Publisher>(*store_, *writer_, *engine_, clock_, random_);
  }
  std::vector<std::pair<std::string, std::string>> Disabled() {
    std::lock_guard lock(mu_);
    return disabled_;
  }
  std::mutex mu_;
  std::vector<std::pair<std::string, std::string>> disabled_;
};

TEST_F(EngineOperationsTest, AutoDisablesAfterNConsecutiveFailuresSpanningT) {
  StartEngineWith(EngineOptions{.auto_disable_failures = 3, .auto_disable_after = seconds(60)});
  const std::string id = AddWebhook(R"({"kind":"fixed","delays_s":[1]})", /*max_retries=*/0);
  // Three failed deliveries within a few seconds: the count is reached, the span is not.
  for (int i = 0; i < 3; ++i) {
    Publish();
    ASSERT_TRUE(transport_.WaitForSent(i + 1));
    transport_.Complete(i, 500);
    clock_.Advance(seconds(1));
  }
  EXPECT_TRUE(Disabled().empty());
  // A fourth failure a minute after the first: disabled.
  clock_.Advance(seconds(60));
  Publish();
  ASSERT_TRUE(transport_.WaitForSent(4));
  transport_.Complete(3, 503);
  ASSERT_EQ(Disabled().size(), 1u);
  EXPECT_EQ(Disabled()[0].first, id);
  EXPECT_NE(Disabled()[0].second.find("4 consecutive deliveries failed"), std::string::npos);
  // The streak is stored with the outcome.
  writer_->Flush();
  EXPECT_EQ(store_->GetWebhook("", id)->consecutive_failures, 4);
}

TEST_F(EngineOperationsTest, SuccessResetsTheFailureStreak) {
  StartEngineWith(EngineOptions{.auto_disable_failures = 2, .auto_disable_after = seconds(0)});
  const std::string id = AddWebhook(R"({"kind":"fixed","delays_s":[1]})", 0);
  Publish();
  ASSERT_TRUE(transport_.WaitForSent(1));
  transport_.Complete(0, 500);
  Publish();
  ASSERT_TRUE(transport_.WaitForSent(2));
  transport_.Complete(1, 200);
  Publish();
  ASSERT_TRUE(transport_.WaitForSent(3));
  transport_.Complete(2, 500);
  EXPECT_TRUE(Disabled().empty());
  writer_->Flush();
  EXPECT_EQ(store_->GetWebhook("", id)->consecutive_failures, 1);
}

TEST_F(EngineOperationsTest, GoneDisablesAtOnceWhenTheWebhookOptsIn) {
  StartEngineWith(EngineOptions{});
  const std::string id = AddWebhook(R"({"kind":"fixed","delays_s":[1]})");
  store::Webhook w = store_->GetWebhook("", id).value();
  w.disable_on_gone = true;
  ASSERT_TRUE(store_->UpdateWebhook(w).ok());
  Publish();
  ASSERT_TRUE(transport_.WaitForSent(1));
  transport_.Complete(0, 410);
  ASSERT_EQ(Disabled().size(), 1u);
  EXPECT_NE(Disabled()[0].second.find("410"), std::string::npos);
  EXPECT_EQ(Attempts()[0].status, store::DeliveryStatus::kFailed);  // no retry after a 410
}

TEST_F(EngineOperationsTest, RateLimitedDeliveriesWaitForTokensAndAreNotFailed) {
  StartEngineWith(EngineOptions{});
  const std::string id = AddWebhook(R"({"kind":"fixed","delays_s":[1]})");
  store::Webhook w = store_->GetWebhook("", id).value();
  w.rate_limit_per_s = 2;
  ASSERT_TRUE(store_->UpdateWebhook(w).ok());
  for (int i = 0; i < 5; ++i) Publish();
  // A full bucket holds one second's worth: two go out at once, the rest wait for the clock.
  ASSERT_TRUE(transport_.WaitForSent(2));
  for (int i = 0; i < 2; ++i) transport_.Complete(i, 200);
  engine_->RunUntilIdleForTest();
  EXPECT_EQ(transport_.SentCount(), 2u);
  clock_.Advance(std::chrono::milliseconds(600));  // one token (and a fifth of the next)
  ASSERT_TRUE(transport_.WaitForSent(3));
  engine_->RunUntilIdleForTest();
  EXPECT_EQ(transport_.SentCount(), 3u);
  clock_.Advance(seconds(1));  // two more tokens
  ASSERT_TRUE(transport_.WaitForSent(5));
  for (int i = 2; i < 5; ++i) transport_.Complete(i, 200);
  for (const auto& a : Attempts()) EXPECT_EQ(a.status, store::DeliveryStatus::kSuccess);
}

TEST_F(EngineOperationsTest, BacklogBeyondTheBoundRefusesPublishes) {
  StartEngineWith(EngineOptions{.max_pending = 2});
  AddWebhook(R"({"kind":"fixed","delays_s":[1]})", 3, /*max_in_flight=*/1);
  Publish();
  Publish();
  EXPECT_TRUE(engine_->Overloaded());
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Status> refused;
  PublishInput in;
  in.organization_id = org_;
  in.event_type = "order.created";
  in.data = boost::json::object();
  publisher_->Publish(std::move(in), [&](Result<store::PublishResult>&& r) {
    std::lock_guard lock(mu);
    refused = r.status();
    cv.notify_all();
  });
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, seconds(5), [&] { return refused.has_value(); }));
  EXPECT_EQ(refused->code(), ErrorCode::kResourceExhausted);
}

TEST_F(EngineOperationsTest, SecretRotationGraceSignsWithBothSecrets) {
  StartEngineWith(EngineOptions{});
  const std::string id = AddWebhook(R"({"kind":"fixed","delays_s":[1]})");
  store::Webhook w = store_->GetWebhook("", id).value();
  w.previous_secret_key = std::string(64, 'c');
  w.previous_secret_expires_at = clock_.Now() + seconds(3600);
  ASSERT_TRUE(store_->UpdateWebhook(w).ok());
  Publish();
  ASSERT_TRUE(transport_.WaitForSent(1));
  const std::string both = Header(transport_.Request(0), "webhook-signature");
  ASSERT_EQ(std::count(both.begin(), both.end(), ' '), 1);
  EXPECT_EQ(both.rfind("v1,", 0), 0u);
  EXPECT_NE(both.find(" v1,"), std::string::npos);
  // After the grace period only the new secret signs.
  clock_.Advance(seconds(3601));
  transport_.Complete(0, 500);
  clock_.Advance(seconds(2));
  ASSERT_TRUE(transport_.WaitForSent(2));
  EXPECT_EQ(Header(transport_.Request(1), "webhook-signature").find(' '), std::string::npos);
}

}  // namespace
}  // namespace ulak::delivery

namespace ulak::delivery {
namespace {

class EngineBreakerTest : public EngineOperationsTest {
 protected:
  // One delivery at a time, so the order of tries is the order of publishes.
  void StartWithBreaker() {
    StartEngineWith(EngineOptions{.breaker_failures = 3, .breaker_cooldown = seconds(10),
                                  .breaker_max_cooldown = seconds(40)});
    AddWebhook(R"({"kind":"fixed","delays_s":[600]})", 3, 1);
  }
  // Nothing more is sent at the clock's current time.
  void ExpectNoMoreThan(size_t n) {
    engine_->RunUntilIdleForTest();
    EXPECT_EQ(transport_.SentCount(), n);
  }
};

TEST_F(EngineBreakerTest, UnreachableEndpointIsPausedProbedAndResumedWithoutSpendingAttempts) {
  StartWithBreaker();
  for (int i = 0; i < 6; ++i) Publish();
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(transport_.WaitForSent(i + 1));
    transport_.Complete(i, 0, TransportError::kConnect);
  }
  ExpectNoMoreThan(3);  // open: three deliveries wait, untried

  clock_.Advance(seconds(10));  // first cooldown over: one probe
  ASSERT_TRUE(transport_.WaitForSent(4));
  ExpectNoMoreThan(4);
  transport_.Complete(3, 0, TransportError::kTimeout);  // the probe fails: cooldown doubles to 20 s
  clock_.Advance(seconds(10));
  ExpectNoMoreThan(4);
  clock_.Advance(seconds(10));
  ASSERT_TRUE(transport_.WaitForSent(5));
  transport_.Complete(4, 200);  // an answer: closed again, the rest flows
  ASSERT_TRUE(transport_.WaitForSent(6));
  transport_.Complete(5, 200);

  const std::vector<store::Attempt> attempts = Attempts();
  ASSERT_EQ(attempts.size(), 6u);  // 3 failures, the failed probe, 2 successes: no attempt spent while paused
  for (const store::Attempt& a : attempts) EXPECT_EQ(a.attempt_number, 1);
  EXPECT_EQ(std::count_if(attempts.begin(), attempts.end(),
                          [](const store::Attempt& a) { return a.status == store::DeliveryStatus::kSuccess; }),
            2);
  EXPECT_EQ(engine_->HeldCount(), 4u);  // the four failed ones wait for their retries
}

TEST_F(EngineBreakerTest, EndpointThatAnswersWithErrorsIsNotPaused) {
  StartWithBreaker();
  for (int i = 0; i < 5; ++i) Publish();
  for (size_t i = 0; i < 5; ++i) {
    ASSERT_TRUE(transport_.WaitForSent(i + 1));
    transport_.Complete(i, 503);
  }
  EXPECT_EQ(Attempts().size(), 5u);
}

TEST_F(EngineBreakerTest, ResponseBeforeTheThresholdResetsTheCount) {
  StartWithBreaker();
  for (int i = 0; i < 5; ++i) Publish();
  ASSERT_TRUE(transport_.WaitForSent(1));
  transport_.Complete(0, 0, TransportError::kConnect);
  ASSERT_TRUE(transport_.WaitForSent(2));
  transport_.Complete(1, 0, TransportError::kConnect);
  ASSERT_TRUE(transport_.WaitForSent(3));
  transport_.Complete(2, 500);  // an answer: the count starts again
  ASSERT_TRUE(transport_.WaitForSent(4));
  transport_.Complete(3, 0, TransportError::kConnect);
  ASSERT_TRUE(transport_.WaitForSent(5));
  transport_.Complete(4, 0, TransportError::kConnect);
  EXPECT_EQ(Attempts().size(), 5u);
}

}  // namespace
}  // namespace ulak::delivery

namespace ulak::delivery {
namespace {

// A CRM template with OAuth (issue 12): the token comes from the token endpoint through the
// same transport; a 401 invalidates it, one refresh follows and the same body goes again.
TEST_F(EngineTest, TemplatedWebhookRefreshesItsTokenOnceOn401AndResends) {
  StartEngine();
  const std::string id = AddWebhook(R"({"kind":"fixed","delays_s":[60]})");
  store::Webhook w = store_->GetWebhook("", id).value();
  w.url = "https://acme.my.salesforce.com";
  w.template_json = R"({"name":"salesforce","params":{"upsert":true}})";
  w.template_auth_json = R"({"refresh_token":"r","client_id":"c","client_secret":"s",)"
                         R"("token_url":"http://127.0.0.1:1/token"})";
  ASSERT_TRUE(store_->UpdateWebhook(w).ok());
  publisher_->InvalidateSubscriptions(org_);
  PublishInput in;
  in.organization_id = org_;
  in.event_type = "order.created";
  in.data = boost::json::object{{"order_number", "ORD-7"}, {"total_amount", 10}, {"status", "pending"}};
  in.metadata = boost::json::object();
  publisher_->Publish(std::move(in), [](Result<store::PublishResult>&& r) { EXPECT_TRUE(r.ok()); });

  ASSERT_TRUE(transport_.WaitForSent(1));
  EXPECT_EQ(transport_.Request(0).url, "http://127.0.0.1:1/token");
  transport_.Complete(0, 200, TransportError::kNone, R"({"access_token":"tok-1","expires_in":3600})");
  ASSERT_TRUE(transport_.WaitForSent(2));
  const OutgoingRequest first = transport_.Request(1);
  EXPECT_EQ(first.method, "PATCH");
  EXPECT_EQ(first.url, "https://acme.my.salesforce.com/services/data/v58.0/sobjects/Order__c/Order_Number__c/ORD-7");
  EXPECT_EQ(Header(first, "Authorization"), "Bearer tok-1");
  transport_.Complete(1, 401);
  ASSERT_TRUE(transport_.WaitForSent(3));
  EXPECT_EQ(transport_.Request(2).url, "http://127.0.0.1:1/token");
  transport_.Complete(2, 200, TransportError::kNone, R"({"access_token":"tok-2","expires_in":3600})");
  ASSERT_TRUE(transport_.WaitForSent(4));
  const OutgoingRequest again = transport_.Request(3);
  EXPECT_EQ(Header(again, "Authorization"), "Bearer tok-2");
  EXPECT_EQ(again.Body(), first.Body());
  // The shaped body is serialized once per try and shared by both sends, not copied.
  ASSERT_NE(first.shared_body, nullptr);
  EXPECT_EQ(again.shared_body, first.shared_body);
  transport_.Complete(3, 204);
  const std::vector<store::Attempt> attempts = Attempts();
  ASSERT_EQ(attempts.size(), 1u);  // one try: the resend after a refresh is part of it
  EXPECT_EQ(attempts[0].status, store::DeliveryStatus::kSuccess);
  EXPECT_EQ(attempts[0].request_method, "PATCH");
  EXPECT_EQ(attempts[0].request_url, first.url);
  EXPECT_EQ(attempts[0].request_body, first.Body());
  EXPECT_EQ(transport_.SentCount(), 4u);
}

}  // namespace
}  // namespace ulak::delivery

// Issue 16: Retry-After, redirects, ordered delivery, the breaker's stored state.
namespace ulak::delivery {
namespace {

TransportResult Answer(int status, std::string retry_after = "", std::string location = "") {
  TransportResult r;
  r.status = status;
  r.retry_after = std::move(retry_after);
  r.location = std::move(location);
  return r;
}

TEST_F(EngineTest, RetryAfterOnTooManyRequestsPostponesTheRetryAndIsLogged) {
  StartEngine();
  AddWebhook(R"({"kind":"fixed","delays_s":[60, 60]})");
  const TimePoint start = clock_.Now();
  Publish();
  ASSERT_TRUE(transport_.WaitForSent(1));
  transport_.CompleteWith(0, Answer(429, "600"));
  clock_.Set(start + seconds(599));
  engine_->RunUntilIdleForTest();
  EXPECT_EQ(transport_.SentCount(), 1u) << "retried before Retry-After";
  clock_.Set(start + seconds(600));
  ASSERT_TRUE(transport_.WaitForSent(2));
  const std::vector<store::Attempt> attempts = Attempts();
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(ToUnixMillis(*attempts[0].next_retry_at), ToUnixMillis(start + seconds(600)));
  EXPECT_NE(attempts[0].error_message.find("Retry-After: 600 (next try in 600 s)"), std::string::npos)
      << attempts[0].error_message;
}

TEST_F(EngineTest, RetryAfterDateOnUnavailableIsClampedToAnHourBeyondThePolicy) {
  StartEngine();
  AddWebhook(R"({"kind":"fixed","delays_s":[60, 60]})");
  const TimePoint start = clock_.Now();  // 2023-11-14T22:13:20Z
  Publish();
  ASSERT_TRUE(transport_.WaitForSent(1));
  transport_.CompleteWith(0, Answer(503, "Wed, 15 Nov 2023 22:13:20 GMT"));  // a day later
  const std::vector<store::Attempt> attempts = Attempts();
  ASSERT_EQ(attempts.size(), 1u);
  const int64_t waited_ms = ToUnixMillis(*attempts[0].next_retry_at) - ToUnixMillis(attempts[0].created_at);
  EXPECT_EQ(waited_ms, (seconds(60) + std::chrono::hours(1)) / std::chrono::milliseconds(1));
  (void)start;
}

TEST_F(EngineTest, WithoutRetryAfterOrOnOtherStatusesThePolicyApplies) {
  StartEngine();
  AddWebhook(R"({"kind":"fixed","delays_s":[60, 60]})");
  Publish();
  Publish();
  ASSERT_TRUE(transport_.WaitForSent(2));
  transport_.CompleteWith(0, Answer(429));
  transport_.CompleteWith(1, Answer(500, "600"));  // only 429 and 503 are honoured
  for (const store::Attempt& a : Attempts()) {
    EXPECT_EQ(ToUnixMillis(*a.next_retry_at) - ToUnixMillis(a.created_at), 60'000);
  }
}

TEST_F(EngineTest, RedirectIsNotFollowedAndIsAFailureNamingTheLocation) {
  StartEngine();
  AddWebhook(R"({"kind":"fixed","delays_s":[60]})");
  Publish();
  ASSERT_TRUE(transport_.WaitForSent(1));
  transport_.CompleteWith(0, Answer(302, "", "https://elsewhere.example/hook"));
  const std::vector<store::Attempt> attempts = Attempts();
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].status, store::DeliveryStatus::kRetrying);
  EXPECT_EQ(attempts[0].response_status, 302);
  EXPECT_EQ(attempts[0].error_message, "HTTP 302 redirect is not followed (Location: https://elsewhere.example/hook)");
  EXPECT_EQ(transport_.SentCount(), 1u);  // nothing was sent to the Location
}

// Issue 16's ordered test: events 1..50 to an endpoint that fails event 1 twice: the
// receiver sees them in order, none before event 1 succeeded.
TEST_F(EngineTest, OrderedWebhookSendsInPublishOrderOneAtATimeAndWaitsForTheHead) {
  StartEngine();
  const std::string id = AddWebhook(R"({"kind":"fixed","delays_s":[5, 5, 5]})", 3, /*max_in_flight=*/8);
  store::Webhook w = store_->GetWebhook("", id).value();
  w.ordered = true;
  ASSERT_TRUE(store_->UpdateWebhook(w).ok());
  publisher_->InvalidateSubscriptions(org_);
  std::vector<std::string> published;
  for (int n = 1; n <= 50; ++n) Publish("order." + std::to_string(n));
  auto event_of = [&](size_t i) {
    const std::string body = transport_.Request(i).Body();
    const size_t at = body.find("\"event\":\"order.");
    return body.substr(at + 15, body.find('"', at + 15) - (at + 15));
  };
  // Event 1 fails twice: nothing else goes out meanwhile, its retries hold the line.
  ASSERT_TRUE(transport_.WaitForSent(1));
  engine_->RunUntilIdleForTest();
  EXPECT_EQ(transport_.SentCount(), 1u) << "an ordered webhook sent two at once";
  EXPECT_EQ(event_of(0), "1");
  transport_.Complete(0, 500);
  clock_.Advance(seconds(4));
  engine_->RunUntilIdleForTest();
  EXPECT_EQ(transport_.SentCount(), 1u) << "event 2 overtook event 1's retry";
  clock_.Advance(seconds(1));
  ASSERT_TRUE(transport_.WaitForSent(2));
  EXPECT_EQ(event_of(1), "1");
  transport_.Complete(1, 0, TransportError::kConnect);
  clock_.Advance(seconds(5));
  ASSERT_TRUE(transport_.WaitForSent(3));
  EXPECT_EQ(event_of(2), "1");
  transport_.Complete(2, 200);
  // Then 2..50, one at a time, in order.
  for (int n = 2; n <= 50; ++n) {
    const size_t i = static_cast<size_t>(n + 1);  // its request's index
    ASSERT_TRUE(transport_.WaitForSent(i + 1));
    EXPECT_EQ(transport_.SentCount(), i + 1) << "more than one in flight";
    EXPECT_EQ(event_of(i), std::to_string(n));
    transport_.Complete(i, 200);
  }
  EXPECT_EQ(Attempts().size(), 52u);
}

TEST_F(EngineBreakerTest, BreakerStateIsStoredSoARestartDoesNotGiveFreshTries) {
  StartWithBreaker();
  const std::string id = store_->ListAllWebhooks(org_)->front().id;
  for (int i = 0; i < 4; ++i) Publish();
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(transport_.WaitForSent(i + 1));
    transport_.Complete(i, 0, TransportError::kConnect);
  }
  ExpectNoMoreThan(3);  // open
  writer_->Flush();
  const store::Webhook stored = store_->GetWebhook("", id).value();
  EXPECT_EQ(stored.breaker.streak, 3);
  EXPECT_EQ(stored.breaker.cooldown, seconds(10));
  ASSERT_TRUE(stored.breaker.paused_until.has_value());
  EXPECT_EQ(ToUnixMillis(*stored.breaker.paused_until), ToUnixMillis(clock_.Now() + seconds(10)));
  ASSERT_TRUE(stored.last_failure_at.has_value());
  EXPECT_FALSE(stored.last_success_at.has_value());

  // Restart: the new engine reloads the four deliveries but keeps the pause.
  engine_->Stop();
  engine_.reset();
  StartEngineWith(EngineOptions{.breaker_failures = 3, .breaker_cooldown = seconds(10),
                                .breaker_max_cooldown = seconds(40)});
  ExpectNoMoreThan(3);
  clock_.Advance(seconds(10));  // the stored pause is over: one probe, not a fresh burst
  ASSERT_TRUE(transport_.WaitForSent(4));
  ExpectNoMoreThan(4);
  transport_.Complete(3, 200);  // closed: stored so
  writer_->Flush();
  const store::Webhook closed = store_->GetWebhook("", id).value();
  EXPECT_EQ(closed.breaker.streak, 0);
  EXPECT_EQ(closed.breaker.cooldown.count(), 0);
  EXPECT_FALSE(closed.breaker.paused_until.has_value());
  EXPECT_TRUE(closed.last_success_at.has_value());
}

}  // namespace
}  // namespace ulak::delivery

namespace ulak::delivery {
namespace {

// Memory bounded whatever the backlog (issue 17): beyond EngineOptions::max_held (in all)
// and max_held_per_webhook, committed deliveries stay in the store and are paged in by due
// time as a queue drains.
class EnginePagingTest : public EngineOperationsTest {
 protected:
  void StartBounded() { StartEngineWith(EngineOptions{.max_held = 5, .max_held_per_webhook = 3, .breaker_failures = 0}); }
  // The webhook's open deliveries in due order, as the store lists them.
  std::vector<std::string> DueOrder(const std::string& webhook_id) {
    writer_->Flush();
    std::vector<std::string> ids;
    const std::vector<store::PendingDelivery> open =
        store_->ListDueDeliveriesForWebhook(webhook_id, TimePoint{}, "", 1000).value();
    for (const store::PendingDelivery& p : open) ids.push_back(p.delivery.id);
    return ids;
  }
  // Completes with 200 every try from `from` on, one at a time in the order sent, until
  // `n` were sent in all; returns the webhook-ids of those tries. Checks the bound after each.
  std::vector<std::string> DrainInOrder(size_t from, size_t n) {
    std::vector<std::string> ids;
    for (size_t i = from; i < n; ++i) {
      if (!transport_.WaitForSent(i + 1)) break;
      EXPECT_LE(engine_->HeldCount(), 5u);
      ids.push_back(Header(transport_.Request(i), "webhook-id"));
      transport_.Complete(i, 200);
    }
    return ids;
  }
};

TEST_F(EnginePagingTest, DeadWebhookBacklogStaysWithinTheBoundAndIsTriedInDueOrderOnceItRecovers) {
  StartBounded();
  const std::string dead = AddWebhook(R"({"kind":"fixed","delays_s":[60]})", 3, /*max_in_flight=*/1);
  for (int i = 0; i < 50; ++i) {
    clock_.Advance(std::chrono::milliseconds(1));  // due order is publish order
    Publish();
  }
  ASSERT_TRUE(transport_.WaitForSent(1));
  engine_->RunUntilIdleForTest();
  EXPECT_EQ(transport_.SentCount(), 1u);  // the first try hangs: the endpoint is dead
  EXPECT_LE(engine_->HeldCount(), 3u) << "per webhook bound";
  const std::vector<std::string> due = DueOrder(dead);
  ASSERT_EQ(due.size(), 50u);
  // It recovers: every delivery is tried once, in due order, paged in as the queue drains.
  EXPECT_EQ(DrainInOrder(0, 50), due);
  engine_->RunUntilIdleForTest();
  EXPECT_EQ(transport_.SentCount(), 50u);
  EXPECT_EQ(Attempts().size(), 50u);
  EXPECT_TRUE(store_->ListPendingDeliveries("", 10)->empty());
  EXPECT_EQ(engine_->HeldCount(), 0u);
}

TEST_F(EnginePagingTest, HealthyWebhookIsNotHeldBackByADeadOneFillingTheBound) {
  StartBounded();
  const std::string dead = AddWebhook(R"({"kind":"fixed","delays_s":[60]})", 3, /*max_in_flight=*/1);
  const std::string healthy = AddWebhook(R"({"kind":"fixed","delays_s":[60]})");
  for (int i = 0; i < 20; ++i) {
    clock_.Advance(std::chrono::milliseconds(1));
    Publish();
  }
  std::set<size_t> completed;
  size_t healthy_done = 0, to_dead = 0;
  for (int round = 0; round < 100 && healthy_done < 20; ++round) {
    engine_->RunUntilIdleForTest();
    for (size_t i = 0; i < transport_.SentCount(); ++i) {
      if (completed.count(i) != 0) continue;
      if (transport_.Request(i).url.find(healthy) == std::string::npos) continue;
      completed.insert(i);
      transport_.Complete(i, 200);
      ++healthy_done;
    }
    EXPECT_LE(engine_->HeldCount(), 5u);
  }
  EXPECT_EQ(healthy_done, 20u);
  for (size_t i = 0; i < transport_.SentCount(); ++i) to_dead += transport_.Request(i).url.find(dead) != std::string::npos;
  EXPECT_EQ(to_dead, 1u);  // its one hanging try; the rest wait in the store
  EXPECT_EQ(DueOrder(dead).size(), 20u);
}

TEST_F(EnginePagingTest, RecoveryAtStartHoldsAtMostTheBoundAndPagesTheRest) {
  StartBounded();
  const std::string dead = AddWebhook(R"({"kind":"fixed","delays_s":[60]})", 3, /*max_in_flight=*/1);
  for (int i = 0; i < 12; ++i) {
    clock_.Advance(std::chrono::milliseconds(1));
    Publish();
  }
  ASSERT_TRUE(transport_.WaitForSent(1));
  engine_->Stop();  // a crash: the try in flight is abandoned, all 12 stay pending
  engine_.reset();
  const std::vector<std::string> due = DueOrder(dead);
  ASSERT_EQ(due.size(), 12u);
  StartBounded();
  ASSERT_TRUE(transport_.WaitForSent(2));
  engine_->RunUntilIdleForTest();
  EXPECT_LE(engine_->HeldCount(), 3u);
  EXPECT_EQ(DrainInOrder(1, 13), due);
  engine_->RunUntilIdleForTest();
  EXPECT_EQ(transport_.SentCount(), 13u);
  writer_->Flush();
  EXPECT_TRUE(store_->ListPendingDeliveries("", 10)->empty());
}

}  // namespace
}  // namespace ulak::delivery
