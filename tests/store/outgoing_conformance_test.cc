// Conformance: webhooks, events, deliveries and attempt logs.
#include "common/clock.h"
#include "common/ids.h"
#include "store/conformance.h"

namespace ulak::store::testing {
namespace {

class OutgoingFixture {
 public:
  explicit OutgoingFixture(Store& store) : store_(store) {}

  std::string NewOrg() {
    Organization org{Id(), "org", clock.Now()};
    ApiKey key{Id(), org.id, "hash-" + org.id, "ulak_x", clock.Now()};
    EXPECT_TRUE(store_.CreateOrganization(org, key).ok());
    return org.id;
  }
  Webhook NewWebhook(const std::string& org, bool active = true) {
    Webhook w;
    w.id = Id();
    w.organization_id = org;
    w.name = "hook";
    w.url = "https://example.com/hook";
    w.secret_key = std::string(64, 'a');
    w.events_json = R"(["order.*"])";
    w.custom_headers_json = R"({"X-API-Key":"k"})";
    w.retry_policy_json = R"({"kind":"fixed","delays_s":[60]})";
    w.is_active = active;
    w.created_at = w.updated_at = clock.Now();
    EXPECT_TRUE(store_.CreateWebhook(w).ok());
    return w;
  }
  PublishRequest NewPublish(const std::string& org, const std::vector<std::string>& webhooks,
                            std::string event_id = "") {
    PublishRequest r;
    r.event.id = Id();
    r.event.organization_id = org;
    r.event.event_type = "order.created";
    r.event.event_id = std::move(event_id);
    r.event.payload = R"({"event":"order.created"})";
    r.event.created_at = clock.Now();
    for (const auto& w : webhooks) {
      Delivery d;
      d.id = Id();
      d.event_id = r.event.id;
      d.webhook_id = w;
      d.organization_id = org;
      d.next_attempt_at = d.created_at = clock.Now();
      r.deliveries.push_back(d);
    }
    return r;
  }
  AttemptOutcome Outcome(const Delivery& d, DeliveryStatus status, int attempt_number) {
    AttemptOutcome o;
    o.attempt.id = Id();
    o.attempt.delivery_id = d.id;
    o.attempt.organization_id = d.organization_id;
    o.attempt.webhook_id = d.webhook_id;
    o.attempt.event_type = "order.created";
    o.attempt.event_ref = "o-1";
    o.attempt.request_url = "https://example.com/hook";
    o.attempt.request_signature = "sig";
    o.attempt.response_status = status == DeliveryStatus::kSuccess ? 200 : 500;
    o.attempt.response_time_ms = 10 * attempt_number;
    o.attempt.status = status;
    o.attempt.attempt_number = attempt_number;
    o.attempt.created_at = clock.Now();
    o.delivery_status = status;
    o.attempts = attempt_number;
    o.next_attempt_at = clock.Now() + std::chrono::seconds(60);
    return o;
  }
  std::string Id() {
    clock.Advance(Millis(1));
    return NewId(clock, random);
  }

  ManualClock clock;
  SeededRandomForTest random{11};

 private:
  Store& store_;
};

TEST_P(StoreConformanceTest, WebhookRoundTripsAndIsScopedToItsOrganization) {
  OutgoingFixture f(*store_);
  const std::string a = f.NewOrg();
  const std::string b = f.NewOrg();
  Webhook w = f.NewWebhook(a);
  Result<Webhook> got = store_->GetWebhook(a, w.id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->url, w.url);
  EXPECT_EQ(got->secret_key, w.secret_key);
  EXPECT_EQ(got->events_json, w.events_json);
  EXPECT_EQ(got->custom_headers_json, w.custom_headers_json);
  EXPECT_EQ(got->max_in_flight, 8);
  EXPECT_FALSE(got->last_triggered_at.has_value());
  EXPECT_EQ(store_->GetWebhook(b, w.id).status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(store_->GetWebhook("", w.id).ok());  // the engine's unscoped lookup
}

TEST_P(StoreConformanceTest, WebhookUpdateAndListActive) {
  OutgoingFixture f(*store_);
  const std::string org = f.NewOrg();
  Webhook w = f.NewWebhook(org);
  f.NewWebhook(org, /*active=*/false);
  EXPECT_EQ(store_->ListActiveWebhooks(org)->size(), 1u);
  EXPECT_EQ(store_->ListWebhooks(org, PageRequest{50, ""})->items.size(), 2u);
  w.name = "renamed";
  w.max_in_flight = 3;
  ASSERT_TRUE(store_->UpdateWebhook(w).ok());
  EXPECT_EQ(store_->GetWebhook(org, w.id)->name, "renamed");
  EXPECT_EQ(store_->GetWebhook(org, w.id)->max_in_flight, 3);
  Webhook other = w;
  other.organization_id = f.NewOrg();
  EXPECT_EQ(store_->UpdateWebhook(other).code(), ErrorCode::kNotFound);
}

TEST_P(StoreConformanceTest, PublishStoresEventAndDeliveriesAndIsIdempotent) {
  OutgoingFixture f(*store_);
  const std::string org = f.NewOrg();
  Webhook w1 = f.NewWebhook(org);
  Webhook w2 = f.NewWebhook(org);
  PublishRequest first = f.NewPublish(org, {w1.id, w2.id}, "order-1");
  PublishRequest again = f.NewPublish(org, {w1.id, w2.id}, "order-1");
  PublishRequest other = f.NewPublish(org, {w1.id});
  Result<std::vector<PublishResult>> r = store_->Publish({first, again, other});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_FALSE((*r)[0].duplicate);
  EXPECT_EQ((*r)[0].event.deliveries, 2);
  EXPECT_TRUE((*r)[1].duplicate);  // same batch, same event_id
  EXPECT_EQ((*r)[1].event.id, first.event.id);
  EXPECT_EQ((*r)[1].event.deliveries, 2);
  EXPECT_TRUE((*r)[1].deliveries.empty());
  EXPECT_FALSE((*r)[2].duplicate);

  Result<std::vector<PublishResult>> later = store_->Publish({f.NewPublish(org, {w1.id}, "order-1")});
  ASSERT_TRUE(later.ok());
  EXPECT_TRUE((*later)[0].duplicate);
  EXPECT_EQ((*later)[0].event.id, first.event.id);

  Result<std::vector<PendingDelivery>> pending = store_->ListPendingDeliveries("", 100);
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(pending->size(), 3u);
  for (const auto& p : *pending) EXPECT_EQ(*p.payload, R"({"event":"order.created"})");
  EXPECT_EQ(store_->GetEvent(org, first.event.id)->event_id, "order-1");
}

// A shaped try (a CRM template) records the method and body it sent; a plain one stores no
// body and reads the event's payload back.
TEST_P(StoreConformanceTest, AttemptKeepsTheMethodAndBodyOfAShapedTry) {
  OutgoingFixture f(*store_);
  const std::string org = f.NewOrg();
  Webhook w = f.NewWebhook(org);
  w.template_json = R"({"name":"salesforce","params":{"upsert":true}})";
  w.template_auth_json = R"({"access_token":"t"})";
  ASSERT_TRUE(store_->UpdateWebhook(w).ok());
  EXPECT_EQ(store_->GetWebhook(org, w.id)->template_json, w.template_json);
  PublishRequest p = f.NewPublish(org, {w.id}, "o-shaped");
  ASSERT_TRUE(store_->Publish({p}).ok());
  AttemptOutcome shaped = f.Outcome(p.deliveries[0], DeliveryStatus::kRetrying, 1);
  shaped.attempt.request_method = "PATCH";
  shaped.attempt.request_body = R"({"Name":"ORD-1"})";
  ASSERT_TRUE(store_->RecordOutcomes({shaped}).ok());
  ASSERT_TRUE(store_->RecordOutcomes({f.Outcome(p.deliveries[0], DeliveryStatus::kSuccess, 2)}).ok());
  AttemptFilter filter;
  filter.organization_id = org;
  Result<std::vector<Attempt>> logs = store_->ListAttempts(filter);
  ASSERT_TRUE(logs.ok());
  ASSERT_EQ(logs->size(), 2u);
  EXPECT_EQ((*logs)[1].request_method, "PATCH");
  EXPECT_EQ((*logs)[1].request_body, R"({"Name":"ORD-1"})");
  EXPECT_EQ((*logs)[0].request_method, "POST");
  EXPECT_EQ((*logs)[0].request_body, p.event.payload);
}

TEST_P(StoreConformanceTest, SameEventIdInAnotherOrganizationIsNotADuplicate) {
  OutgoingFixture f(*store_);
  const std::string a = f.NewOrg();
  const std::string b = f.NewOrg();
  ASSERT_TRUE(store_->Publish({f.NewPublish(a, {}, "x")}).ok());
  Result<std::vector<PublishResult>> r = store_->Publish({f.NewPublish(b, {}, "x")});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE((*r)[0].duplicate);
}

TEST_P(StoreConformanceTest, OutcomesMoveDeliveriesAndAreListedNewestFirstWithStats) {
  OutgoingFixture f(*store_);
  const std::string org = f.NewOrg();
  Webhook w = f.NewWebhook(org);
  PublishRequest p = f.NewPublish(org, {w.id}, "o-1");
  ASSERT_TRUE(store_->Publish({p}).ok());
  const Delivery& d = p.deliveries[0];
  ASSERT_TRUE(store_->RecordOutcomes({f.Outcome(d, DeliveryStatus::kRetrying, 1)}).ok());
  EXPECT_EQ(store_->ListPendingDeliveries("", 10)->size(), 1u);  // retrying is still open
  ASSERT_TRUE(store_->RecordOutcomes({f.Outcome(d, DeliveryStatus::kSuccess, 2)}).ok());
  EXPECT_TRUE(store_->ListPendingDeliveries("", 10)->empty());
  EXPECT_TRUE(store_->GetWebhook(org, w.id)->last_triggered_at.has_value());

  AttemptFilter filter;
  filter.organization_id = org;
  Result<std::vector<Attempt>> logs = store_->ListAttempts(filter);
  ASSERT_TRUE(logs.ok());
  ASSERT_EQ(logs->size(), 2u);
  EXPECT_EQ((*logs)[0].attempt_number, 2);  // newest first
  EXPECT_EQ((*logs)[0].status, DeliveryStatus::kSuccess);
  EXPECT_EQ((*logs)[0].request_body, p.event.payload);
  EXPECT_EQ((*logs)[1].status, DeliveryStatus::kRetrying);

  Result<AttemptStats> stats = store_->GetAttemptStats(filter);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->total, 2);
  EXPECT_EQ(stats->success, 1);
  EXPECT_EQ(stats->retrying, 1);
  EXPECT_EQ(stats->failed, 0);
  EXPECT_DOUBLE_EQ(stats->avg_response_time_ms, 15.0);

  filter.status = DeliveryStatus::kSuccess;
  EXPECT_EQ(store_->ListAttempts(filter)->size(), 1u);
  EXPECT_EQ(store_->GetAttemptStats(filter)->total, 1);
  filter.status.reset();
  filter.organization_id = f.NewOrg();
  EXPECT_TRUE(store_->ListAttempts(filter)->empty());
}

TEST_P(StoreConformanceTest, DeletingAWebhookCancelsItsPendingDeliveriesAndKeepsLogs) {
  OutgoingFixture f(*store_);
  const std::string org = f.NewOrg();
  Webhook w = f.NewWebhook(org);
  PublishRequest p = f.NewPublish(org, {w.id});
  ASSERT_TRUE(store_->Publish({p}).ok());
  ASSERT_TRUE(store_->RecordOutcomes({f.Outcome(p.deliveries[0], DeliveryStatus::kRetrying, 1)}).ok());
  ASSERT_TRUE(store_->DeleteWebhook(org, w.id, f.clock.Now()).ok());
  EXPECT_TRUE(store_->ListPendingDeliveries("", 10)->empty());
  EXPECT_EQ(store_->GetWebhook(org, w.id).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->DeleteWebhook(org, w.id, f.clock.Now()).code(), ErrorCode::kNotFound);
  AttemptFilter filter;
  filter.organization_id = org;
  filter.webhook_id = w.id;
  EXPECT_EQ(store_->ListAttempts(filter)->size(), 1u);
  // An outcome arriving after the delete does not revive the delivery.
  ASSERT_TRUE(store_->RecordOutcomes({f.Outcome(p.deliveries[0], DeliveryStatus::kRetrying, 2)}).ok());
  EXPECT_TRUE(store_->ListPendingDeliveries("", 10)->empty());
}

}  // namespace
}  // namespace ulak::store::testing
