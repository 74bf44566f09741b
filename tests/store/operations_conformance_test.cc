// Conformance: delivery operations (replay, resend, disable), jobs and monitoring.
#include "common/clock.h"
#include "common/ids.h"
#include "store/conformance.h"

namespace ulak::store::testing {
namespace {

class OperationsFixture {
 public:
  explicit OperationsFixture(Store& store) : store_(store) {
    Organization org{Id(), "org", clock.Now()};
    org_id = org.id;
    EXPECT_TRUE(store_.CreateOrganization(org, {Id(), org.id, "h" + org.id, "p", clock.Now()}).ok());
    webhook.id = Id();
    webhook.organization_id = org_id;
    webhook.name = "crm";
    webhook.url = "https://example.com/h";
    webhook.secret_key = std::string(64, 'a');
    webhook.events_json = R"(["*"])";
    webhook.custom_headers_json = "{}";
    webhook.retry_policy_json = R"({"kind":"fixed","delays_s":[60]})";
    webhook.created_at = webhook.updated_at = clock.Now();
    EXPECT_TRUE(store_.CreateWebhook(webhook).ok());
  }
  std::string Id() {
    clock.Advance(Millis(1));
    return NewId(clock, random);
  }
  // Publishes one event with one delivery and records a final outcome for it.
  Delivery DeliverOnce(DeliveryStatus final_status) {
    PublishRequest p;
    p.event.id = Id();
    p.event.organization_id = org_id;
    p.event.event_type = "order.created";
    p.event.payload = R"({"n":1})";
    p.event.created_at = clock.Now();
    Delivery d;
    d.id = Id();
    d.event_id = p.event.id;
    d.webhook_id = webhook.id;
    d.organization_id = org_id;
    d.next_attempt_at = d.created_at = clock.Now();
    p.deliveries.push_back(d);
    EXPECT_TRUE(store_.Publish({p}).ok());
    AttemptOutcome o;
    o.attempt.id = Id();
    o.attempt.delivery_id = d.id;
    o.attempt.organization_id = org_id;
    o.attempt.webhook_id = webhook.id;
    o.attempt.event_type = "order.created";
    o.attempt.event_ref = p.event.id;
    o.attempt.request_url = webhook.url;
    o.attempt.status = final_status;
    o.attempt.response_time_ms = final_status == DeliveryStatus::kSuccess ? 100 : 300;
    o.attempt.created_at = clock.Now();
    o.delivery_status = final_status;
    o.attempts = 1;
    o.next_attempt_at = clock.Now();
    o.consecutive_failures = final_status == DeliveryStatus::kFailed ? 1 : 0;
    EXPECT_TRUE(store_.RecordOutcomes({o}).ok());
    d.status = final_status;
    return d;
  }

  ManualClock clock;
  SeededRandomForTest random{21};
  std::string org_id;
  Webhook webhook;

 private:
  Store& store_;
};

TEST_P(StoreConformanceTest, FailedDeliveryCanBeFoundAndRequeued) {
  OperationsFixture f(*store_);
  const TimePoint before = f.clock.Now();
  Delivery failed = f.DeliverOnce(DeliveryStatus::kFailed);
  f.DeliverOnce(DeliveryStatus::kSuccess);
  Result<PendingDelivery> got = store_->GetDelivery(f.org_id, failed.id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->delivery.status, DeliveryStatus::kFailed);
  EXPECT_EQ(*got->payload, R"({"n":1})");
  EXPECT_EQ(store_->GetDelivery("another-org", failed.id).status().code(), ErrorCode::kNotFound);

  Result<std::vector<PendingDelivery>> list = store_->ListFailedDeliveries(f.webhook.id, before, "", 10);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].delivery.id, failed.id);
  EXPECT_TRUE(store_->ListFailedDeliveries(f.webhook.id, f.clock.Now() + std::chrono::hours(1), "", 10)->empty());

  ASSERT_TRUE(store_->RequeueDelivery(failed.id, f.clock.Now()).ok());
  EXPECT_EQ(store_->GetDelivery(f.org_id, failed.id)->delivery.status, DeliveryStatus::kPending);
  EXPECT_EQ(store_->ListPendingDeliveries("", 10)->size(), 1u);
  EXPECT_EQ(store_->RequeueDelivery("missing", f.clock.Now()).code(), ErrorCode::kNotFound);
}

TEST_P(StoreConformanceTest, ResendCreatesANewDeliveryOfTheSameEvent) {
  OperationsFixture f(*store_);
  Delivery first = f.DeliverOnce(DeliveryStatus::kSuccess);
  Delivery again = first;
  again.id = f.Id();
  again.status = DeliveryStatus::kPending;
  again.attempts = 0;
  ASSERT_TRUE(store_->CreateDelivery(again).ok());
  Result<PendingDelivery> got = store_->GetDelivery("", again.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->delivery.event_id, first.event_id);
  EXPECT_EQ(store_->CreateDelivery(again).code(), ErrorCode::kAlreadyExists);
}

TEST_P(StoreConformanceTest, DisablingAWebhookRecordsWhyAndCancelsItsWork) {
  OperationsFixture f(*store_);
  Delivery pending = f.DeliverOnce(DeliveryStatus::kRetrying);
  ASSERT_TRUE(store_->DisableWebhook(f.webhook.id, "410 Gone", f.clock.Now()).ok());
  Result<Webhook> w = store_->GetWebhook(f.org_id, f.webhook.id);
  ASSERT_TRUE(w.ok());
  EXPECT_FALSE(w->is_active);
  EXPECT_EQ(w->disabled_reason, "410 Gone");
  EXPECT_TRUE(w->disabled_at.has_value());
  EXPECT_EQ(store_->GetDelivery("", pending.id)->delivery.status, DeliveryStatus::kCancelled);
  EXPECT_EQ(store_->DisableWebhook(f.webhook.id, "again", f.clock.Now()).code(), ErrorCode::kNotFound);
}

TEST_P(StoreConformanceTest, WebhookKeepsRotationRateLimitAndStreakFields) {
  OperationsFixture f(*store_);
  Webhook w = f.webhook;
  w.previous_secret_key = std::string(64, 'b');
  w.previous_secret_expires_at = f.clock.Now() + std::chrono::hours(24);
  w.rate_limit_per_s = 5;
  w.disable_on_gone = true;
  ASSERT_TRUE(store_->UpdateWebhook(w).ok());
  Result<Webhook> got = store_->GetWebhook(f.org_id, w.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->previous_secret_key, w.previous_secret_key);
  EXPECT_EQ(ToUnixMillis(*got->previous_secret_expires_at), ToUnixMillis(*w.previous_secret_expires_at));
  EXPECT_EQ(got->rate_limit_per_s, 5);
  EXPECT_TRUE(got->disable_on_gone);
  f.DeliverOnce(DeliveryStatus::kFailed);
  EXPECT_EQ(store_->GetWebhook(f.org_id, w.id)->consecutive_failures, 1);
}

TEST_P(StoreConformanceTest, WebhookKeepsSignatureSchemeAndSigningKeys) {
  OperationsFixture f(*store_);
  EXPECT_EQ(store_->GetWebhook(f.org_id, f.webhook.id)->signature_scheme, "hmac");  // the default
  Webhook w = f.webhook;
  w.signature_scheme = "ed25519";
  w.signing_key = "whsk_" + std::string(86, 'A') + "==";
  w.previous_signing_key = "whsk_" + std::string(86, 'B') + "==";
  ASSERT_TRUE(store_->UpdateWebhook(w).ok());
  Result<Webhook> got = store_->GetWebhook(f.org_id, w.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->signature_scheme, "ed25519");
  EXPECT_EQ(got->signing_key, w.signing_key);
  EXPECT_EQ(got->previous_signing_key, w.previous_signing_key);
}

TEST_P(StoreConformanceTest, JobsRecordProgressAndAreScoped) {
  OperationsFixture f(*store_);
  Job job;
  job.id = f.Id();
  job.organization_id = f.org_id;
  job.kind = "recover";
  job.status = "running";
  job.params_json = "{}";
  job.created_at = job.updated_at = f.clock.Now();
  ASSERT_TRUE(store_->CreateJob(job).ok());
  job.done = 3;
  job.total = 3;
  job.status = "completed";
  ASSERT_TRUE(store_->UpdateJob(job).ok());
  Result<Job> got = store_->GetJob(f.org_id, job.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, "completed");
  EXPECT_EQ(got->done, 3);
  EXPECT_EQ(store_->GetJob("another-org", job.id).status().code(), ErrorCode::kNotFound);
}

TEST_P(StoreConformanceTest, WebhookHealthCountsAttemptsInTheWindow) {
  OperationsFixture f(*store_);
  const TimePoint since = f.clock.Now();
  f.DeliverOnce(DeliveryStatus::kSuccess);
  f.DeliverOnce(DeliveryStatus::kFailed);
  Result<std::vector<WebhookHealth>> health = store_->GetWebhookHealth(f.org_id, since);
  ASSERT_TRUE(health.ok());
  ASSERT_EQ(health->size(), 1u);
  EXPECT_EQ((*health)[0].name, "crm");
  EXPECT_EQ((*health)[0].total, 2);
  EXPECT_EQ((*health)[0].successful, 1);
  EXPECT_DOUBLE_EQ((*health)[0].avg_response_time_ms, 200.0);
  EXPECT_EQ(store_->GetWebhookHealth(f.org_id, f.clock.Now() + std::chrono::hours(1))->at(0).total, 0);
}

}  // namespace
}  // namespace ulak::store::testing
