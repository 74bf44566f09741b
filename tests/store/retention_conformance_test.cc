// Conformance: retention (Store::PruneBatch, CountPrunable, ReclaimSpace and the Retention
// pass over them). What must hold on every store: finished deliveries go with their
// attempts, events go once no delivery needs them, incoming logs go, open deliveries and
// their events stay whatever their age, batches respect their limit oldest first, and a
// million old attempt rows are cleaned while publishes continue.
#include <condition_variable>
#include <mutex>
#include <algorithm>
#include <cstdlib>
#include <thread>

#include "common/clock.h"
#include "common/ids.h"
#include "store/conformance.h"
#include "store/retention.h"
#include "support/sample_rows.h"

namespace ulak::store::testing {
namespace {

using std::chrono::hours;

constexpr auto kDay = hours(24);

class RetentionFixture {
 public:
  explicit RetentionFixture(Store& store) : store_(store) {}

  std::string NewOrg() {
    Organization org{Id(), "org", clock.Now()};
    EXPECT_TRUE(store_.CreateOrganization(org, ApiKey{Id(), org.id, "hash-" + org.id, "ulak_x", clock.Now()}).ok());
    return org.id;
  }
  std::string NewWebhook(const std::string& org) {
    Webhook w = ulak::testing::SampleWebhook(Id(), org, clock.Now());
    EXPECT_TRUE(store_.CreateWebhook(w).ok());
    return w.id;
  }
  // Publishes one event with one delivery to `webhook`, now.
  Delivery Publish(const std::string& org, const std::string& webhook) {
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
    Result<std::vector<PublishResult>> published = store_.Publish({r});
    EXPECT_TRUE(published.ok()) << published.status().ToString();
    return d;
  }
  // Records one try of `d`, now, leaving it in `status`.
  void Try(const Delivery& d, DeliveryStatus status) {
    AttemptOutcome o;
    o.attempt.id = Id();
    o.attempt.delivery_id = d.id;
    o.attempt.organization_id = d.organization_id;
    o.attempt.webhook_id = d.webhook_id;
    o.attempt.event_type = "order.created";
    o.attempt.event_ref = "ref";
    o.attempt.request_url = "https://example.com/hook";
    o.attempt.request_signature = "sig";
    o.attempt.status = status;
    o.attempt.created_at = clock.Now();
    o.delivery_status = status;
    o.attempts = 1;
    o.next_attempt_at = clock.Now() + std::chrono::seconds(60);
    EXPECT_TRUE(store_.RecordOutcomes({o}).ok());
  }
  void Incoming(const std::string& org, const std::string& source) {
    IncomingRequest r;
    r.id = Id();
    r.source_id = source;
    r.organization_id = org;
    r.status = IncomingStatus::kRejected;
    r.headers_json = "{}";
    r.reason = "bad signature";
    r.created_at = clock.Now();
    EXPECT_TRUE(store_.RecordRejected(r).ok());
  }
  std::string NewSource(const std::string& org) {
    Source s;
    s.id = Id();
    s.organization_id = org;
    s.name = "s";
    s.provider = "stripe";
    s.secrets_json = R"(["whsec_x"])";
    s.options_json = "{}";
    s.event_map_json = "[]";
    s.created_at = s.updated_at = clock.Now();
    EXPECT_TRUE(store_.CreateSource(s).ok());
    return s.id;
  }
  size_t AttemptsOf(const std::string& org) {
    AttemptFilter f;
    f.organization_id = org;
    f.limit = 100000;
    return store_.ListAttempts(f)->size();
  }
  std::string Id() {
    clock.Advance(Millis(1));
    return NewId(clock, random);
  }

  ManualClock clock;
  SeededRandomForTest random{16};

 private:
  Store& store_;
};

TEST_P(StoreConformanceTest, RetentionDeletesFinishedWorkButNeverOpenDeliveries) {
  RetentionFixture f(*store_);
  const std::string org = f.NewOrg();
  const std::string hook = f.NewWebhook(org);
  const std::string source = f.NewSource(org);
  // 40 days ago: two finished deliveries, one retrying, one never tried, one finished only
  // recently, and a rejected incoming request.
  const Delivery success = f.Publish(org, hook);
  const Delivery failed = f.Publish(org, hook);
  const Delivery retrying = f.Publish(org, hook);
  const Delivery pending = f.Publish(org, hook);
  const Delivery recent = f.Publish(org, hook);
  f.Try(success, DeliveryStatus::kSuccess);
  f.Try(failed, DeliveryStatus::kFailed);
  f.Try(retrying, DeliveryStatus::kRetrying);
  f.Incoming(org, source);
  f.clock.Advance(40 * kDay);
  f.Try(recent, DeliveryStatus::kSuccess);
  f.Incoming(org, source);

  Result<PruneCounts> counts = store_->CountPrunable(org, f.clock.Now() - 30 * kDay);
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  EXPECT_EQ(counts->deliveries, 2);
  EXPECT_EQ(counts->attempts, 2);
  EXPECT_EQ(counts->events, 2);
  EXPECT_EQ(counts->incoming, 1);

  Retention retention(*store_, f.clock, RetentionOptions{30});
  Result<PruneReport> report = retention.RunOnce();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->deliveries, 2);
  EXPECT_EQ(report->attempts, 2);
  EXPECT_EQ(report->events, 2);
  EXPECT_EQ(report->incoming, 1);

  for (const Delivery* gone : {&success, &failed}) {
    EXPECT_EQ(store_->GetDelivery(org, gone->id).status().code(), ErrorCode::kNotFound);
    EXPECT_EQ(store_->GetEvent(org, gone->event_id).status().code(), ErrorCode::kNotFound);
  }
  for (const Delivery* kept : {&retrying, &pending, &recent}) {
    EXPECT_TRUE(store_->GetDelivery(org, kept->id).ok()) << "open or recent delivery deleted";
    EXPECT_TRUE(store_->GetEvent(org, kept->event_id).ok()) << "an event still needed was deleted";
  }
  EXPECT_EQ(f.AttemptsOf(org), 2u);  // the retrying one's and the recent one's
  IncomingFilter incoming;
  incoming.organization_id = org;
  EXPECT_EQ(store_->ListIncoming(incoming)->size(), 1u);
  EXPECT_EQ(store_->ListPendingDeliveries("", 10)->size(), 2u);

  // Nothing more to do on a second pass.
  report = retention.RunOnce();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->deliveries + report->events + report->incoming, 0);
}

// A delivery a transform skipped (SPEC §7) is finished work like a success: once old enough,
// retention deletes it, its attempt and its event. (Before migration 0016 the finished
// condition listed success, failed and cancelled only, and skipped ones stayed for good.)
TEST_P(StoreConformanceTest, RetentionDeletesSkippedDeliveriesLikeOtherFinishedOnes) {
  RetentionFixture f(*store_);
  const std::string org = f.NewOrg();
  const std::string hook = f.NewWebhook(org);
  const Delivery skipped = f.Publish(org, hook);
  f.Try(skipped, DeliveryStatus::kSkipped);
  f.clock.Advance(40 * kDay);

  Result<PruneCounts> counts = store_->CountPrunable(org, f.clock.Now() - 30 * kDay);
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  EXPECT_EQ(counts->deliveries, 1);
  EXPECT_EQ(counts->attempts, 1);
  EXPECT_EQ(counts->events, 1);
  Retention retention(*store_, f.clock, RetentionOptions{30});
  Result<PruneReport> report = retention.RunOnce();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->deliveries, 1);
  EXPECT_EQ(report->attempts, 1);
  EXPECT_EQ(report->events, 1);
  EXPECT_EQ(store_->GetDelivery(org, skipped.id).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->GetEvent(org, skipped.event_id).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(f.AttemptsOf(org), 0u);
}

TEST_P(StoreConformanceTest, PruneBatchDeletesAtMostItsLimitOldestFirst) {
  RetentionFixture f(*store_);
  const std::string org = f.NewOrg();
  const std::string hook = f.NewWebhook(org);
  std::vector<Delivery> ds;
  for (int i = 0; i < 7; ++i) {
    ds.push_back(f.Publish(org, hook));
    f.Try(ds.back(), DeliveryStatus::kSuccess);
    f.clock.Advance(hours(1));
  }
  f.clock.Advance(40 * kDay);
  PruneRequest req{org, PruneKind::kDeliveries, f.clock.Now() - 30 * kDay, 3, "", TimePoint()};
  Result<PruneResult> r = store_->PruneBatch(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->busy);
  EXPECT_EQ(r->rows, 3);
  EXPECT_EQ(r->attempts, 3);
  EXPECT_EQ(r->examined, 3);
  for (size_t i = 0; i < ds.size(); ++i) {
    EXPECT_EQ(store_->GetDelivery(org, ds[i].id).ok(), i >= 3) << "delivery " << i;
  }
  r = store_->PruneBatch(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows, 3);
  r = store_->PruneBatch(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows, 1);
  EXPECT_LT(r->examined, req.limit);  // the end: nothing older left
}

TEST_P(StoreConformanceTest, PruneEventsStepsOverEventsStillNeeded) {
  RetentionFixture f(*store_);
  const std::string org = f.NewOrg();
  const std::string hook = f.NewWebhook(org);
  const Delivery held = f.Publish(org, hook);  // oldest, and still pending
  const Delivery done = f.Publish(org, hook);
  f.Try(done, DeliveryStatus::kSuccess);
  f.clock.Advance(40 * kDay);
  const TimePoint before = f.clock.Now() - 30 * kDay;
  ASSERT_TRUE(store_->PruneBatch({org, PruneKind::kDeliveries, before, 10, "", TimePoint()}).ok());

  // One event per batch: the first looks at the held event and keeps it, the next goes on
  // after it and deletes the free one.
  PruneRequest req{org, PruneKind::kEvents, before, 1, "", TimePoint()};
  Result<PruneResult> r = store_->PruneBatch(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->examined, 1);
  EXPECT_EQ(r->rows, 0);
  EXPECT_EQ(r->last_event, held.event_id);
  req.after_event = r->last_event;
  req.after_event_created_at = r->last_event_created_at;
  r = store_->PruneBatch(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows, 1);
  EXPECT_TRUE(store_->GetEvent(org, held.event_id).ok());
  EXPECT_EQ(store_->GetEvent(org, done.event_id).status().code(), ErrorCode::kNotFound);
}

TEST_P(StoreConformanceTest, OrganizationRetentionOverridesTheServerAndZeroKeepsForever) {
  RetentionFixture f(*store_);
  const std::string forever = f.NewOrg();
  const std::string brief = f.NewOrg();
  ASSERT_TRUE(store_->SetOrganizationRetention(forever, 0).ok());
  ASSERT_TRUE(store_->SetOrganizationRetention(brief, 2).ok());
  EXPECT_EQ(store_->GetOrganization(forever)->retention_days, 0);
  EXPECT_EQ(store_->GetOrganization(brief)->retention_days, 2);
  EXPECT_EQ(store_->SetOrganizationRetention("no-such-org", 1).code(), ErrorCode::kNotFound);
  const Delivery kept = f.Publish(forever, f.NewWebhook(forever));
  const Delivery pruned = f.Publish(brief, f.NewWebhook(brief));
  f.Try(kept, DeliveryStatus::kSuccess);
  f.Try(pruned, DeliveryStatus::kSuccess);
  f.clock.Advance(3 * kDay);  // past brief's 2 days, well within the server's 30

  Retention retention(*store_, f.clock, RetentionOptions{30});
  ASSERT_TRUE(retention.RunOnce().ok());
  EXPECT_TRUE(store_->GetDelivery(forever, kept.id).ok());
  EXPECT_EQ(store_->GetDelivery(brief, pruned.id).status().code(), ErrorCode::kNotFound);

  // Back to the server's setting.
  ASSERT_TRUE(store_->SetOrganizationRetention(forever, std::nullopt).ok());
  EXPECT_EQ(store_->GetOrganization(forever)->retention_days, std::nullopt);
  // --older-than overrides every organization, even one that keeps forever.
  ASSERT_TRUE(store_->SetOrganizationRetention(forever, 0).ok());
  Result<PruneReport> dry = retention.RunOnce(hours(24), /*dry_run=*/true);
  ASSERT_TRUE(dry.ok());
  EXPECT_EQ(dry->deliveries, 1);
  EXPECT_TRUE(store_->GetDelivery(forever, kept.id).ok());  // a dry run deletes nothing
}

TEST_P(StoreConformanceTest, WebhookKeepsOrderedAndTheHealthTheEngineRecords) {
  RetentionFixture f(*store_);
  const std::string org = f.NewOrg();
  const std::string id = f.NewWebhook(org);
  Webhook w = store_->GetWebhook(org, id).value();
  EXPECT_FALSE(w.ordered);
  EXPECT_EQ(w.breaker.streak, 0);
  EXPECT_FALSE(w.last_success_at.has_value());
  w.ordered = true;
  ASSERT_TRUE(store_->UpdateWebhook(w).ok());
  EXPECT_TRUE(store_->GetWebhook(org, id)->ordered);

  // A failed try carrying an open breaker, then a success in a later batch.
  const Delivery d = f.Publish(org, id);
  AttemptOutcome o;
  o.attempt.id = f.Id();
  o.attempt.delivery_id = d.id;
  o.attempt.organization_id = org;
  o.attempt.webhook_id = id;
  o.attempt.event_type = "order.created";
  o.attempt.event_ref = "ref";
  o.attempt.request_url = "https://example.com/hook";
  o.attempt.request_signature = "sig";
  o.attempt.status = DeliveryStatus::kRetrying;
  o.attempt.created_at = f.clock.Now();
  o.delivery_status = DeliveryStatus::kRetrying;
  o.attempts = 1;
  o.next_attempt_at = f.clock.Now() + std::chrono::seconds(60);
  o.breaker = Webhook::Breaker{10, std::chrono::milliseconds(4000), f.clock.Now() + std::chrono::seconds(4)};
  const TimePoint failed_at = f.clock.Now();
  ASSERT_TRUE(store_->RecordOutcomes({o}).ok());
  Webhook paused = store_->GetWebhook(org, id).value();
  EXPECT_EQ(paused.breaker.streak, 10);
  EXPECT_EQ(paused.breaker.cooldown, std::chrono::milliseconds(4000));
  ASSERT_TRUE(paused.breaker.paused_until.has_value());
  EXPECT_EQ(ToUnixMillis(*paused.breaker.paused_until), ToUnixMillis(failed_at + std::chrono::seconds(4)));
  ASSERT_TRUE(paused.last_failure_at.has_value());
  EXPECT_EQ(ToUnixMillis(*paused.last_failure_at), ToUnixMillis(failed_at));
  EXPECT_FALSE(paused.last_success_at.has_value());
  // A PATCH does not touch what the engine keeps.
  paused.name = "renamed";
  paused.breaker = Webhook::Breaker{};
  ASSERT_TRUE(store_->UpdateWebhook(paused).ok());
  EXPECT_EQ(store_->GetWebhook(org, id)->breaker.streak, 10);

  f.clock.Advance(std::chrono::seconds(5));
  o.attempt.id = f.Id();
  o.attempt.status = DeliveryStatus::kSuccess;
  o.attempt.created_at = f.clock.Now();
  o.delivery_status = DeliveryStatus::kSuccess;
  o.breaker = Webhook::Breaker{};
  ASSERT_TRUE(store_->RecordOutcomes({o}).ok());
  const Webhook healthy = store_->GetWebhook(org, id).value();
  EXPECT_EQ(healthy.breaker.streak, 0);
  EXPECT_EQ(healthy.breaker.cooldown.count(), 0);
  EXPECT_FALSE(healthy.breaker.paused_until.has_value());
  ASSERT_TRUE(healthy.last_success_at.has_value());
  EXPECT_EQ(ToUnixMillis(*healthy.last_success_at), ToUnixMillis(f.clock.Now()));
  EXPECT_EQ(ToUnixMillis(*healthy.last_failure_at), ToUnixMillis(failed_at));  // kept
}

// The SQL that makes `deliveries` old deliveries (one event each, every 1000th still
// retrying) with four attempt rows each, 40 days old.
std::vector<std::string> MillionAttemptsSql(const std::string& dialect, const std::string& org,
                                            const std::string& hook, int64_t old_ms, int deliveries) {
  const std::string n = std::to_string(deliveries);
  const std::string a = std::to_string(deliveries * 4);
  const std::string t = std::to_string(old_ms);
  const std::string body = "'response body of a receiver, kept with every attempt until retention removes it'";
  if (dialect == "sqlite") {
    const std::string seq = "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ";
    return {
        seq + n + " - 1) INSERT INTO events(id, organization_id, event_type, event_id, payload, deliveries, "
              "created_at) SELECT printf('old-e-%08d', i), '" + org + "', 'order.created', NULL, "
              "'{\"event\":\"order.created\",\"n\":' || i || '}', 1, " + t + " + i / 100 FROM n",
        seq + n + " - 1) INSERT INTO deliveries(id, event_id, webhook_id, organization_id, status, attempts, "
              "next_attempt_at, created_at, updated_at) SELECT printf('old-d-%08d', i), printf('old-e-%08d', i), '" +
            hook + "', '" + org + "', CASE WHEN i % 1000 = 0 THEN 'retrying' ELSE 'success' END, 4, " + t +
            ", " + t + " + i / 100, " + t + " + i / 100 FROM n",
        seq + a + " - 1) INSERT INTO attempts(id, delivery_id, organization_id, webhook_id, event_type, event_ref, "
              "request_url, request_signature, response_status, response_body, response_time_ms, status, "
              "attempt_number, error_message, created_at) SELECT printf('old-a-%08d', i), "
              "printf('old-d-%08d', i / 4), '" + org + "', '" + hook + "', 'order.created', 'ref', "
              "'https://example.com/hook', 'sig', 500, " + body + ", 10, 'failed', i % 4 + 1, '', " + t +
            " + i / 400 FROM n",
    };
  }
  const std::string series = " FROM generate_series(0, ";
  return {
      "INSERT INTO events(id, organization_id, event_type, event_id, payload, deliveries, created_at) "
      "SELECT 'old-e-' || lpad(i::text, 8, '0'), '" + org + "', 'order.created', NULL, "
      "convert_to('{\"event\":\"order.created\",\"n\":' || i || '}', 'UTF8'), 1, " + t + " + i / 100" + series + n +
          " - 1) AS i",
      "INSERT INTO deliveries(id, event_id, webhook_id, organization_id, status, attempts, next_attempt_at, "
      "created_at, updated_at) SELECT 'old-d-' || lpad(i::text, 8, '0'), 'old-e-' || lpad(i::text, 8, '0'), '" +
          hook + "', '" + org + "', CASE WHEN i % 1000 = 0 THEN 'retrying' ELSE 'success' END, 4, " + t + ", " +
          t + " + i / 100, " + t + " + i / 100" + series + n + " - 1) AS i",
      "INSERT INTO attempts(id, delivery_id, organization_id, webhook_id, event_type, event_ref, request_url, "
      "request_signature, response_status, response_body, response_time_ms, status, attempt_number, "
      "error_message, created_at) SELECT 'old-a-' || lpad(i::text, 8, '0'), 'old-d-' || lpad((i / 4)::text, 8, "
      "'0'), '" + org + "', '" + hook + "', 'order.created', 'ref', 'https://example.com/hook', 'sig', 500, "
      "convert_to(" + body + ", 'UTF8'), 10, 'failed', i % 4 + 1, '', " + t + " + i / 400" + series + a +
          " - 1) AS i",
      "ANALYZE",
  };
}

// Issue 16's test: a store holding many old attempt rows is cleaned, in batches, while
// publishes continue (each publish must succeed and stay); open deliveries survive; an
// SQLite file shrinks. `make test` uses 100,000 attempt rows (the deletion is disk-bound:
// the full million takes minutes on a busy CI machine); ULAK_TEST_RETENTION_ATTEMPTS=1000000
// runs issue 16's million (docs/BENCHMARKS.md). Latency during a cleanup is measured in
// bench/, not here.
TEST_P(StoreConformanceTest, OldAttemptRowsAreCleanedInBatchesWhilePublishesContinue) {
  if (!GetParam().exec_sql) GTEST_SKIP() << "this store has no raw SQL fixture";
  RetentionFixture f(*store_);
  const std::string org = f.NewOrg();
  const std::string hook = f.NewWebhook(org);
  const char* rows = std::getenv("ULAK_TEST_RETENTION_ATTEMPTS");
  const int kDeliveries = std::max(4000, (rows != nullptr ? std::atoi(rows) : 100'000) / 4);  // four attempts each
  const int kOpen = kDeliveries / 1000;
  for (const std::string& sql :
       MillionAttemptsSql(GetParam().name, org, hook, ToUnixMillis(f.clock.Now()), kDeliveries)) {
    ASSERT_TRUE(GetParam().exec_sql(*store_, sql).ok()) << sql;
  }
  f.clock.Advance(40 * kDay);
  const int64_t bytes_before = GetParam().file_bytes ? GetParam().file_bytes(*store_) : 0;

  // Publishes keep coming from another thread for as long as the cleanup runs, one per
  // batch (paced by the batches, not by time: each lands while the next batch runs).
  std::mutex mu;
  std::condition_variable cv;
  bool cleaning = true;
  int batches_done = 0;
  int published = 0;
  std::vector<std::string> events;
  std::thread publisher([&] {
    RetentionFixture p(*store_);
    p.clock.Set(f.clock.Now());
    std::unique_lock lock(mu);
    while (cleaning || published == 0) {
      cv.wait(lock, [&] { return !cleaning || batches_done > published; });
      lock.unlock();
      const std::string event = p.Publish(org, hook).event_id;
      lock.lock();
      events.push_back(event);
      ++published;
    }
  });
  RetentionOptions options{30};
  options.batch = 2000;
  options.pause = Millis(0);
  Retention retention(*store_, f.clock, options);
  Result<PruneReport> report = retention.RunOnce(std::nullopt, false, [&] {
    std::lock_guard lock(mu);
    ++batches_done;
    cv.notify_all();
    return true;
  });
  {
    std::lock_guard lock(mu);
    cleaning = false;
    cv.notify_all();
  }
  publisher.join();
  ASSERT_TRUE(report.ok()) << report.status().ToString();

  EXPECT_EQ(report->deliveries, kDeliveries - kOpen);
  EXPECT_EQ(report->attempts, 4 * (kDeliveries - kOpen));
  EXPECT_EQ(report->events, kDeliveries - kOpen);
  EXPECT_GE(report->batches, (kDeliveries - kOpen) / options.batch);  // small batches, not one sweep
  EXPECT_EQ(report->free_pages_left, 0);
  // What stays: the open deliveries with their attempts and events, and every publish.
  EXPECT_EQ(f.AttemptsOf(org), static_cast<size_t>(4 * kOpen));
  EXPECT_TRUE(store_->GetDelivery(org, "old-d-00000000").ok());
  EXPECT_TRUE(store_->GetEvent(org, "old-e-00000000").ok());
  EXPECT_EQ(store_->GetDelivery(org, "old-d-00000001").status().code(), ErrorCode::kNotFound);
  EXPECT_GT(published, 0);
  for (const std::string& id : events) ASSERT_TRUE(store_->GetEvent(org, id).ok()) << "a publish was lost";
  Result<std::vector<PendingDelivery>> open = store_->ListPendingDeliveries("", kOpen + published + 10);
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(open->size(), static_cast<size_t>(kOpen + published));
  if (GetParam().file_bytes) {
    const int64_t bytes_after = GetParam().file_bytes(*store_);
    EXPECT_LT(bytes_after, bytes_before / 2) << "the database file did not shrink: " << bytes_before << " -> "
                                             << bytes_after;
  }
}

}  // namespace
}  // namespace ulak::store::testing
