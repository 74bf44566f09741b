// Conformance: shared work. Nodes claim due deliveries under leases; a lease that runs out
// hands the work to another node; no two nodes hold the same delivery at once.
#include <set>

#include "common/clock.h"
#include "common/ids.h"
#include "store/conformance.h"

namespace ulak::store::testing {
namespace {

using std::chrono::seconds;

class ClaimsFixture {
 public:
  explicit ClaimsFixture(Store& store) : store_(store) {
    Organization org{Id(), "org", clock.Now()};
    org_id = org.id;
    EXPECT_TRUE(store_.CreateOrganization(org, {Id(), org.id, "h" + org.id, "p", clock.Now()}).ok());
    Webhook w;
    w.id = webhook_id = Id();
    w.organization_id = org_id;
    w.name = "w";
    w.url = "https://example.com";
    w.secret_key = std::string(64, 'a');
    w.events_json = R"(["*"])";
    w.custom_headers_json = "{}";
    w.retry_policy_json = R"({"kind":"fixed","delays_s":[60]})";
    w.created_at = w.updated_at = clock.Now();
    EXPECT_TRUE(store_.CreateWebhook(w).ok());
  }
  std::string Id() {
    clock.Advance(Millis(1));
    return NewId(clock, random);
  }
  // Publishes n events with one delivery each, claimed by `owner` (empty: unclaimed).
  std::vector<Delivery> Publish(int n, const std::string& owner = "", TimePoint due = TimePoint()) {
    std::vector<PublishRequest> batch;
    std::vector<Delivery> out;
    for (int i = 0; i < n; ++i) {
      PublishRequest p;
      p.event.id = Id();
      p.event.organization_id = org_id;
      p.event.event_type = "order.created";
      p.event.payload = "{}";
      p.event.created_at = clock.Now();
      Delivery d;
      d.id = Id();
      d.event_id = p.event.id;
      d.webhook_id = webhook_id;
      d.organization_id = org_id;
      d.next_attempt_at = due == TimePoint() ? clock.Now() : due;
      d.created_at = clock.Now();
      if (!owner.empty()) {
        d.claimed_by = owner;
        d.lease_until = clock.Now() + seconds(30);
      }
      p.deliveries.push_back(d);
      out.push_back(d);
      batch.push_back(std::move(p));
    }
    EXPECT_TRUE(store_.Publish(batch).ok());
    return out;
  }
  ManualClock clock;
  SeededRandomForTest random{31};
  std::string org_id;
  std::string webhook_id;

 private:
  Store& store_;
};

TEST_P(StoreConformanceTest, DueDeliveriesAreClaimedByOneNodeOnly) {
  ClaimsFixture f(*store_);
  f.Publish(5);
  const TimePoint now = f.clock.Now();
  Result<std::vector<PendingDelivery>> a = store_->ClaimDueDeliveries("node-a", now, now + seconds(30), 3);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->size(), 3u);
  for (const auto& p : *a) {
    EXPECT_EQ(p.delivery.claimed_by, "node-a");
    EXPECT_EQ(*p.payload, "{}");
  }
  Result<std::vector<PendingDelivery>> b = store_->ClaimDueDeliveries("node-b", now, now + seconds(30), 10);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->size(), 2u);
  std::set<std::string> ids;
  for (const auto& p : *a) ids.insert(p.delivery.id);
  for (const auto& p : *b) EXPECT_EQ(ids.count(p.delivery.id), 0u);
  EXPECT_TRUE(store_->ClaimDueDeliveries("node-c", now, now + seconds(30), 10)->empty());
}

TEST_P(StoreConformanceTest, ExpiredLeasesPassToAnotherNodeAndRenewedOnesDoNot) {
  ClaimsFixture f(*store_);
  f.Publish(2, "node-a");  // claimed at publish for 30 s
  EXPECT_TRUE(store_->ClaimDueDeliveries("node-b", f.clock.Now(), f.clock.Now() + seconds(30), 10)->empty());
  f.clock.Advance(seconds(20));
  ASSERT_EQ(*store_->RenewLeases("node-a", f.clock.Now() + seconds(30)), 2);
  f.clock.Advance(seconds(20));  // past the first lease, inside the renewed one
  EXPECT_TRUE(store_->ClaimDueDeliveries("node-b", f.clock.Now(), f.clock.Now() + seconds(30), 10)->empty());
  f.clock.Advance(seconds(20));  // node-a died: its renewed lease ran out too
  Result<std::vector<PendingDelivery>> b =
      store_->ClaimDueDeliveries("node-b", f.clock.Now(), f.clock.Now() + seconds(30), 10);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->size(), 2u);
  EXPECT_EQ(*store_->RenewLeases("node-a", f.clock.Now() + seconds(30)), 0);
}

TEST_P(StoreConformanceTest, DeliveriesNotYetDueAreNotClaimed) {
  ClaimsFixture f(*store_);
  f.Publish(1, "", f.clock.Now() + seconds(60));
  EXPECT_TRUE(store_->ClaimDueDeliveries("n", f.clock.Now(), f.clock.Now() + seconds(30), 10)->empty());
  f.clock.Advance(seconds(61));
  EXPECT_EQ(store_->ClaimDueDeliveries("n", f.clock.Now(), f.clock.Now() + seconds(30), 10)->size(), 1u);
}

TEST_P(StoreConformanceTest, FinishedDeliveryReleasesItsClaimAndARetryKeepsItsLease) {
  ClaimsFixture f(*store_);
  std::vector<Delivery> ds = f.Publish(2, "node-a");
  auto outcome = [&](const Delivery& d, DeliveryStatus status) {
    AttemptOutcome o;
    o.attempt.id = f.Id();
    o.attempt.delivery_id = d.id;
    o.attempt.organization_id = f.org_id;
    o.attempt.webhook_id = f.webhook_id;
    o.attempt.event_type = "order.created";
    o.attempt.event_ref = d.event_id;
    o.attempt.request_url = "https://example.com";
    o.attempt.status = status;
    o.attempt.created_at = f.clock.Now();
    o.delivery_status = status;
    o.attempts = 1;
    o.next_attempt_at = f.clock.Now() + seconds(60);
    if (status == DeliveryStatus::kRetrying) o.lease_until = o.next_attempt_at + seconds(30);
    return o;
  };
  ASSERT_TRUE(store_->RecordOutcomes({outcome(ds[0], DeliveryStatus::kSuccess),
                                      outcome(ds[1], DeliveryStatus::kRetrying)}).ok());
  // The retry is due in 60 s and stays node-a's until 90 s.
  f.clock.Advance(seconds(70));
  EXPECT_TRUE(store_->ClaimDueDeliveries("node-b", f.clock.Now(), f.clock.Now() + seconds(30), 10)->empty());
  f.clock.Advance(seconds(30));
  Result<std::vector<PendingDelivery>> b =
      store_->ClaimDueDeliveries("node-b", f.clock.Now(), f.clock.Now() + seconds(30), 10);
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b->size(), 1u);
  EXPECT_EQ((*b)[0].delivery.id, ds[1].id);
}

}  // namespace
}  // namespace ulak::store::testing
