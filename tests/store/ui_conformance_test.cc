// Conformance: what the web UI needs from a store: delivery buckets (counts by outcome,
// average and nearest-rank p95 per bucket), portal generations, request inboxes.
#include "common/clock.h"
#include "common/ids.h"
#include "store/conformance.h"

namespace ulak::store::testing {
namespace {

class UiFixture {
 public:
  explicit UiFixture(Store& store) : store_(store) {
    clock.Set(FromUnixMillis(1'700'000'000'000 - 1'700'000'000'000 % 3'600'000));  // an hour boundary
    org_id = NewOrganization();
    webhook_id = NewWebhook(org_id);
  }
  std::string Id() {
    clock.Advance(Millis(1));
    return NewId(clock, random);
  }
  std::string NewOrganization() {
    Organization org{Id(), "org", clock.Now()};
    EXPECT_TRUE(store_.CreateOrganization(org, {Id(), org.id, "h" + org.id, "p", clock.Now()}).ok());
    return org.id;
  }
  std::string NewWebhook(const std::string& org) {
    Webhook w;
    w.id = Id();
    w.organization_id = org;
    w.name = "crm";
    w.url = "https://example.com/h";
    w.secret_key = std::string(64, 'a');
    w.events_json = R"(["*"])";
    w.custom_headers_json = "{}";
    w.retry_policy_json = R"({"kind":"fixed","delays_s":[60]})";
    w.created_at = w.updated_at = clock.Now();
    EXPECT_TRUE(store_.CreateWebhook(w).ok());
    return w.id;
  }
  // One event, one delivery, one attempt created at `at` with the given outcome and time.
  void Attempt(const std::string& org, const std::string& webhook, TimePoint at, DeliveryStatus status,
               int64_t response_ms) {
    PublishRequest p;
    p.event.id = Id();
    p.event.organization_id = org;
    p.event.event_type = "order.created";
    p.event.payload = R"({"n":1})";
    p.event.created_at = at;
    Delivery d;
    d.id = Id();
    d.event_id = p.event.id;
    d.webhook_id = webhook;
    d.organization_id = org;
    d.next_attempt_at = d.created_at = at;
    p.deliveries.push_back(d);
    ASSERT_TRUE(store_.Publish({p}).ok());
    AttemptOutcome o;
    o.attempt.id = Id();
    o.attempt.delivery_id = d.id;
    o.attempt.organization_id = org;
    o.attempt.webhook_id = webhook;
    o.attempt.event_type = "order.created";
    o.attempt.event_ref = p.event.id;
    o.attempt.request_url = "https://example.com/h";
    o.attempt.status = status;
    o.attempt.response_time_ms = response_ms;
    o.attempt.created_at = at;
    o.delivery_status = status;
    o.attempts = 1;
    o.next_attempt_at = at;
    ASSERT_TRUE(store_.RecordOutcomes({o}).ok());
  }

  ManualClock clock;
  SeededRandomForTest random{77};
  std::string org_id;
  std::string webhook_id;

 private:
  Store& store_;
};

TEST_P(StoreConformanceTest, DeliveryBucketsCountOutcomesWithAverageAndNearestRankP95) {
  UiFixture f(*store_);
  const TimePoint hour = FromUnixMillis(ToUnixMillis(f.clock.Now()) / 3'600'000 * 3'600'000);
  const TimePoint first = hour + std::chrono::minutes(1);   // minute bucket 1
  const TimePoint second = hour + std::chrono::minutes(3);  // minute bucket 3
  for (int i = 1; i <= 20; ++i) {
    f.Attempt(f.org_id, f.webhook_id, first + std::chrono::seconds(i), i <= 15 ? DeliveryStatus::kSuccess
                                                                     : i <= 18 ? DeliveryStatus::kFailed
                                                                               : DeliveryStatus::kRetrying,
              21 - i);  // response times 20..1, inserted out of order
  }
  f.Attempt(f.org_id, f.webhook_id, second, DeliveryStatus::kFailed, 500);
  const std::string other_webhook = f.NewWebhook(f.org_id);
  f.Attempt(f.org_id, other_webhook, second, DeliveryStatus::kSuccess, 7);
  f.Attempt(f.org_id, f.webhook_id, hour + std::chrono::minutes(10), DeliveryStatus::kSuccess, 1);  // after `to`
  const std::string other_org = f.NewOrganization();
  f.Attempt(other_org, f.NewWebhook(other_org), first, DeliveryStatus::kSuccess, 1);

  DeliveryBucketFilter filter{f.org_id, "", hour, hour + std::chrono::minutes(5), 60'000};
  Result<std::vector<DeliveryBucket>> all = store_->GetDeliveryBuckets(filter);
  ASSERT_TRUE(all.ok()) << all.status().message();
  ASSERT_EQ(all->size(), 2u);
  const DeliveryBucket& b1 = (*all)[0];
  EXPECT_EQ(b1.start, first);
  EXPECT_EQ(b1.success, 15);
  EXPECT_EQ(b1.failed, 3);
  EXPECT_EQ(b1.retrying, 2);
  EXPECT_DOUBLE_EQ(b1.avg_response_ms, 10.5);
  EXPECT_EQ(b1.p95_response_ms, 19);  // the 19th of 20 sorted times (ceil(0.95 * 20))
  const DeliveryBucket& b2 = (*all)[1];
  EXPECT_EQ(b2.start, second);
  EXPECT_EQ(b2.success, 1);
  EXPECT_EQ(b2.failed, 1);
  EXPECT_EQ(b2.p95_response_ms, 500);

  filter.webhook_id = other_webhook;
  Result<std::vector<DeliveryBucket>> one = store_->GetDeliveryBuckets(filter);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].success, 1);
  EXPECT_EQ((*one)[0].failed, 0);
  EXPECT_EQ((*one)[0].p95_response_ms, 7);

  filter.webhook_id.clear();
  filter.bucket_ms = 3'600'000;
  Result<std::vector<DeliveryBucket>> hourly = store_->GetDeliveryBuckets(filter);
  ASSERT_TRUE(hourly.ok());
  ASSERT_EQ(hourly->size(), 1u);
  EXPECT_EQ((*hourly)[0].start, hour);
  EXPECT_EQ((*hourly)[0].success + (*hourly)[0].failed + (*hourly)[0].retrying, 22);
}

TEST_P(StoreConformanceTest, PortalGenerationStartsAtZeroAndEachRevokeBumpsIt) {
  UiFixture f(*store_);
  EXPECT_EQ(*store_->GetPortalGeneration(f.org_id), 0);
  EXPECT_EQ(*store_->RevokePortalTokens(f.org_id), 1);
  EXPECT_EQ(*store_->RevokePortalTokens(f.org_id), 2);
  EXPECT_EQ(*store_->GetPortalGeneration(f.org_id), 2);
  const std::string other = f.NewOrganization();
  EXPECT_EQ(*store_->GetPortalGeneration(other), 0);
}

TEST_P(StoreConformanceTest, InboxesAreScopedAndKeepOnlyTheirNewestRecentRequests) {
  UiFixture f(*store_);
  Inbox inbox{"ibx_one", f.org_id, "local", 200, f.clock.Now()};
  ASSERT_TRUE(store_->CreateInbox(inbox).ok());
  EXPECT_EQ(store_->CreateInbox(inbox).code(), ErrorCode::kAlreadyExists);
  const std::string other = f.NewOrganization();
  EXPECT_EQ(store_->GetInbox(other, inbox.id).status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(store_->GetInbox("", inbox.id).ok());
  inbox.response_status = 500;
  inbox.name = "failing";
  ASSERT_TRUE(store_->UpdateInbox(inbox).ok());
  EXPECT_EQ(store_->GetInbox(f.org_id, inbox.id)->response_status, 500);
  Inbox foreign = inbox;
  foreign.organization_id = other;
  EXPECT_EQ(store_->UpdateInbox(foreign).code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->ListInboxes(f.org_id)->size(), 1u);
  EXPECT_TRUE(store_->ListInboxes(other)->empty());

  const TimePoint start = f.clock.Now();
  const std::string binary("a\0b\xff\xfe", 5);
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    InboxRequest r{f.Id(), inbox.id, "POST", "/in/ibx_one", "x=1", R"([["A","b"]])", binary, "127.0.0.1",
                   f.clock.Now()};
    ids.push_back(r.id);
    ASSERT_TRUE(store_->RecordInboxRequest(r, 3, start).ok());
  }
  Result<std::vector<InboxRequest>> got = store_->ListInboxRequests(inbox.id, start, 100);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 3u);  // the newest three, newest first
  EXPECT_EQ((*got)[0].id, ids[4]);
  EXPECT_EQ((*got)[2].id, ids[2]);
  EXPECT_EQ((*got)[0].body, binary);
  EXPECT_EQ((*got)[0].headers_json, R"([["A","b"]])");
  EXPECT_EQ((*got)[0].query, "x=1");
  EXPECT_EQ(store_->ListInboxRequests(inbox.id, start, 1)->size(), 1u);

  // A request recorded with a later keep_since drops the older ones.
  f.clock.Advance(std::chrono::hours(25));
  InboxRequest late{f.Id(), inbox.id, "GET", "/in/ibx_one", "", "[]", "", "127.0.0.1", f.clock.Now()};
  ASSERT_TRUE(store_->RecordInboxRequest(late, 3, f.clock.Now() - std::chrono::hours(24)).ok());
  got = store_->ListInboxRequests(inbox.id, start, 100);
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].id, late.id);

  EXPECT_EQ(store_->DeleteInbox(other, inbox.id).code(), ErrorCode::kNotFound);
  ASSERT_TRUE(store_->DeleteInbox(f.org_id, inbox.id).ok());
  EXPECT_EQ(store_->GetInbox("", inbox.id).status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(store_->ListInboxRequests(inbox.id, start, 100)->empty());
}

}  // namespace
}  // namespace ulak::store::testing
