// Conformance (issue 15): a case for each contract store.h states that no other file of the
// suite pins down, run on every store (SQLite, PostgreSQL, and through the wrappers). Most
// guard the shared SQL layer (src/store/sql/): the rows both dialects write and read back,
// and the webhook row a batch of outcomes folds into.
#include <thread>

#include "common/clock.h"
#include "common/ids.h"
#include "store/conformance.h"
#include "support/sample_rows.h"

namespace ulak::store::testing {
namespace {

using std::chrono::seconds;

// Organizations with one webhook each, and helpers to publish and record outcomes.
class ContractsFixture {
 public:
  explicit ContractsFixture(Store& store) : store_(store) {}

  std::string NewOrganization() {
    const std::string org = Id();
    EXPECT_TRUE(store_.CreateOrganization({org, "org", clock.Now()}, {Id(), org, "hash-" + org, "ulak_x", clock.Now()}).ok());
    return org;
  }
  Webhook NewWebhook(const std::string& org) {
    Webhook w = ulak::testing::SampleWebhook(Id(), org, clock.Now());
    EXPECT_TRUE(store_.CreateWebhook(w).ok());
    return w;
  }
  PublishRequest NewPublish(const Webhook& w, const std::string& event_id = "") {
    PublishRequest r;
    r.event.id = Id();
    r.event.organization_id = w.organization_id;
    r.event.event_type = "order.created";
    r.event.event_id = event_id;
    r.event.payload = R"({"event":"order.created"})";
    r.event.created_at = clock.Now();
    Delivery d;
    d.id = Id();
    d.event_id = r.event.id;
    d.webhook_id = w.id;
    d.organization_id = w.organization_id;
    d.next_attempt_at = d.created_at = clock.Now();
    r.deliveries.push_back(d);
    return r;
  }
  Delivery Published(const Webhook& w) {
    PublishRequest r = NewPublish(w);
    EXPECT_TRUE(store_.Publish({r}).ok());
    return r.deliveries[0];
  }
  AttemptOutcome Outcome(const Delivery& d, DeliveryStatus status, int attempt_number) {
    AttemptOutcome o;
    o.attempt.id = Id();
    o.attempt.delivery_id = d.id;
    o.attempt.organization_id = d.organization_id;
    o.attempt.webhook_id = d.webhook_id;
    o.attempt.event_type = "order.created";
    o.attempt.event_ref = "ref";
    o.attempt.request_url = "https://example.com/hook";
    o.attempt.request_signature = "sig";
    o.attempt.response_status = status == DeliveryStatus::kSuccess ? 200 : 500;
    o.attempt.response_time_ms = 10 * attempt_number;
    o.attempt.status = status;
    o.attempt.attempt_number = attempt_number;
    o.attempt.created_at = clock.Now();
    o.delivery_status = status;
    o.attempts = attempt_number;
    o.next_attempt_at = clock.Now() + seconds(60);
    return o;
  }
  std::string Id() {
    clock.Advance(Millis(1));
    return NewId(clock, random);
  }

  ManualClock clock;
  SeededRandomForTest random{1515};

 private:
  Store& store_;
};

// store.h: ListAllWebhooks: every webhook of the organization (or of all when empty),
// deleted ones excluded, oldest first.
TEST_P(StoreConformanceTest, ListAllWebhooksIsScopedExcludesDeletedAndIsOldestFirst) {
  ContractsFixture f(*store_);
  const std::string a = f.NewOrganization(), b = f.NewOrganization();
  const Webhook a1 = f.NewWebhook(a), b1 = f.NewWebhook(b), a2 = f.NewWebhook(a), a3 = f.NewWebhook(a);
  ASSERT_TRUE(store_->DeleteWebhook(a, a2.id, f.clock.Now()).ok());

  Result<std::vector<Webhook>> of_a = store_->ListAllWebhooks(a);
  ASSERT_TRUE(of_a.ok()) << of_a.status().ToString();
  ASSERT_EQ(of_a->size(), 2u);
  EXPECT_EQ((*of_a)[0].id, a1.id);
  EXPECT_EQ((*of_a)[1].id, a3.id);
  Result<std::vector<Webhook>> all = store_->ListAllWebhooks("");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].id, a1.id);
  EXPECT_EQ((*all)[1].id, b1.id);
  EXPECT_EQ((*all)[2].id, a3.id);
}

// store.h: CancelPendingDeliveries cancels pending/retrying deliveries of a webhook and
// returns how many; finished ones and other webhooks' stay as they were.
TEST_P(StoreConformanceTest, CancelPendingDeliveriesCancelsOnlyOpenOnesAndCountsThem) {
  ContractsFixture f(*store_);
  const std::string org = f.NewOrganization();
  const Webhook w = f.NewWebhook(org), other = f.NewWebhook(org);
  const Delivery pending = f.Published(w), retrying = f.Published(w), done = f.Published(w);
  const Delivery elsewhere = f.Published(other);
  ASSERT_TRUE(store_->RecordOutcomes({f.Outcome(retrying, DeliveryStatus::kRetrying, 1),
                                      f.Outcome(done, DeliveryStatus::kSuccess, 1)}).ok());

  Result<int64_t> cancelled = store_->CancelPendingDeliveries(w.id);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().ToString();
  EXPECT_EQ(*cancelled, 2);
  EXPECT_EQ(store_->GetDelivery("", pending.id)->delivery.status, DeliveryStatus::kCancelled);
  EXPECT_EQ(store_->GetDelivery("", retrying.id)->delivery.status, DeliveryStatus::kCancelled);
  EXPECT_EQ(store_->GetDelivery("", done.id)->delivery.status, DeliveryStatus::kSuccess);
  EXPECT_EQ(store_->GetDelivery("", elsewhere.id)->delivery.status, DeliveryStatus::kPending);
  EXPECT_EQ(*store_->CancelPendingDeliveries(w.id), 0);
}

// store.h: Publish: a request whose (organization_id, event_id) was stored before, by this
// very call too, yields the earlier event, duplicate=true, and stores nothing; results are
// in request order.
TEST_P(StoreConformanceTest, TheSameEventIdTwiceInOnePublishIsStoredOnce) {
  ContractsFixture f(*store_);
  const Webhook w = f.NewWebhook(f.NewOrganization());
  const PublishRequest first = f.NewPublish(w, "evt-1"), plain = f.NewPublish(w), again = f.NewPublish(w, "evt-1");
  Result<std::vector<PublishResult>> got = store_->Publish({first, plain, again});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 3u);
  EXPECT_FALSE((*got)[0].duplicate);
  EXPECT_EQ((*got)[0].event.id, first.event.id);
  EXPECT_FALSE((*got)[1].duplicate);
  EXPECT_EQ((*got)[1].event.id, plain.event.id);
  EXPECT_TRUE((*got)[2].duplicate);
  EXPECT_EQ((*got)[2].event.id, first.event.id);
  EXPECT_EQ(store_->GetEvent("", again.event.id).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->GetDelivery("", again.deliveries[0].id).status().code(), ErrorCode::kNotFound);
}

// store.h: RecordOutcomes sets the webhooks' last_triggered_at, and the health the engine
// reports with each outcome, in the one transaction. Several outcomes of one webhook in one
// batch fold into its row as if they had been recorded one by one (the stores write the
// row once per batch).
TEST_P(StoreConformanceTest, OutcomesOfOneBatchFoldIntoTheirWebhookRowAsOneByOne) {
  ContractsFixture f(*store_);
  const std::string org = f.NewOrganization();
  const Webhook w = f.NewWebhook(org), quiet = f.NewWebhook(org);
  const Delivery d1 = f.Published(w), d2 = f.Published(w), d3 = f.Published(w);

  AttemptOutcome failed = f.Outcome(d1, DeliveryStatus::kFailed, 1);
  failed.consecutive_failures = 1;
  failed.first_failure_at = failed.attempt.created_at;
  f.clock.Advance(seconds(1));
  AttemptOutcome succeeded = f.Outcome(d2, DeliveryStatus::kSuccess, 1);
  succeeded.consecutive_failures = 0;
  const TimePoint success_at = succeeded.attempt.created_at;
  f.clock.Advance(seconds(1));
  AttemptOutcome retry = f.Outcome(d3, DeliveryStatus::kRetrying, 1);  // no streak: not ended
  retry.breaker = Webhook::Breaker{2, std::chrono::milliseconds(5000), f.clock.Now() + seconds(5)};
  const TimePoint last_at = retry.attempt.created_at;
  ASSERT_TRUE(store_->RecordOutcomes({failed, succeeded, retry}).ok());

  Result<Webhook> got = store_->GetWebhook(org, w.id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->last_triggered_at, last_at);
  EXPECT_EQ(got->last_success_at, success_at);
  EXPECT_EQ(got->last_failure_at, last_at) << "a retrying try is a failure of the webhook";
  EXPECT_EQ(got->consecutive_failures, 0) << "the last ended delivery's streak";
  EXPECT_EQ(got->first_failure_at, std::nullopt);
  EXPECT_EQ(got->breaker.streak, 2);
  EXPECT_EQ(got->breaker.cooldown, std::chrono::milliseconds(5000));
  EXPECT_EQ(got->breaker.paused_until, f.clock.Now() + seconds(5));

  // A later batch only moves the times forward, and keeps what it does not carry.
  f.clock.Advance(seconds(1));
  AttemptOutcome late_failure = f.Outcome(d3, DeliveryStatus::kFailed, 2);
  late_failure.consecutive_failures = 1;
  late_failure.first_failure_at = late_failure.attempt.created_at;
  AttemptOutcome stale = f.Outcome(d1, DeliveryStatus::kFailed, 2);
  stale.attempt.created_at = success_at - seconds(10);  // an older try logged late
  ASSERT_TRUE(store_->RecordOutcomes({late_failure, stale}).ok());
  got = store_->GetWebhook(org, w.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->last_triggered_at, late_failure.attempt.created_at);
  EXPECT_EQ(got->last_success_at, success_at);
  EXPECT_EQ(got->last_failure_at, late_failure.attempt.created_at);
  EXPECT_EQ(got->consecutive_failures, 1);
  EXPECT_EQ(got->first_failure_at, late_failure.attempt.created_at);
  EXPECT_EQ(got->breaker.streak, 2) << "no outcome of the batch carried a breaker";

  Result<Webhook> untouched = store_->GetWebhook(org, quiet.id);
  ASSERT_TRUE(untouched.ok());
  EXPECT_EQ(untouched->last_triggered_at, std::nullopt);
  EXPECT_EQ(untouched->last_success_at, std::nullopt);
  EXPECT_EQ(untouched->last_failure_at, std::nullopt);
}

// Texts come back as written, whatever they hold: PostgreSQL sends a batch's rows as array
// literals (postgres/pg_columns.h), where quotes, backslashes, braces, commas and the word
// NULL mean something.
TEST_P(StoreConformanceTest, TextsWithQuotesBackslashesBracesAndTheWordNullRoundTrip) {
  ContractsFixture f(*store_);
  const std::string org = f.NewOrganization();
  const Webhook w = f.NewWebhook(org);
  const std::string tricky = "a\"b\\c,{d} NULL";
  PublishRequest r = f.NewPublish(w, "NULL");
  r.event.event_type = tricky;
  r.event.payload = "{\"k\":\"\\\\\"}";
  ASSERT_TRUE(store_->Publish({r, f.NewPublish(w, "\"")}).ok());
  Result<Event> got = store_->GetEvent(org, r.event.id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->event_type, tricky);
  EXPECT_EQ(got->event_id, "NULL");
  EXPECT_EQ(got->payload, r.event.payload);

  AttemptOutcome o = f.Outcome(r.deliveries[0], DeliveryStatus::kRetrying, 1);
  o.attempt.error_message = "NULL";
  o.attempt.request_signature = tricky;
  ASSERT_TRUE(store_->RecordOutcomes({o}).ok());
  AttemptFilter filter;
  filter.organization_id = org;
  filter.limit = 10;
  Result<std::vector<Attempt>> attempts = store_->ListAttempts(filter);
  ASSERT_TRUE(attempts.ok()) << attempts.status().ToString();
  ASSERT_EQ(attempts->size(), 1u);
  EXPECT_EQ((*attempts)[0].error_message, "NULL");
  EXPECT_EQ((*attempts)[0].request_signature, tricky);
}

// store.h: RecordOutcomes applies a batch's outcomes as if one by one, in order, also when
// one delivery has several in the batch (PostgreSQL moves each delivery at most once per
// multi-row UPDATE, so the later outcome must still win), and an attempt id given twice is
// stored once. A cancelled delivery stays cancelled.
TEST_P(StoreConformanceTest, SeveralOutcomesOfOneDeliveryInOneBatchApplyInOrder) {
  ContractsFixture f(*store_);
  const std::string org = f.NewOrganization();
  const Webhook w = f.NewWebhook(org);
  const Delivery d = f.Published(w), cancelled = f.Published(w);
  AttemptOutcome first = f.Outcome(d, DeliveryStatus::kRetrying, 1);
  f.clock.Advance(seconds(1));
  AttemptOutcome second = f.Outcome(d, DeliveryStatus::kSuccess, 2);
  AttemptOutcome other = f.Outcome(cancelled, DeliveryStatus::kRetrying, 1);
  ASSERT_TRUE(store_->RecordOutcomes({first, other, second, first}).ok());
  EXPECT_EQ(store_->GetDelivery("", d.id)->delivery.status, DeliveryStatus::kSuccess);
  EXPECT_EQ(store_->GetDelivery("", d.id)->delivery.attempts, 2);

  ASSERT_TRUE(store_->CancelPendingDeliveries(w.id).ok());
  f.clock.Advance(seconds(1));
  AttemptOutcome later = f.Outcome(cancelled, DeliveryStatus::kRetrying, 2);
  f.clock.Advance(seconds(1));
  AttemptOutcome last = f.Outcome(cancelled, DeliveryStatus::kFailed, 3);
  ASSERT_TRUE(store_->RecordOutcomes({later, last}).ok());
  EXPECT_EQ(store_->GetDelivery("", cancelled.id)->delivery.status, DeliveryStatus::kCancelled);
  EXPECT_EQ(store_->GetDelivery("", cancelled.id)->delivery.attempts, 3);

  AttemptFilter filter;
  filter.organization_id = org;
  filter.limit = 10;
  Result<std::vector<Attempt>> attempts = store_->ListAttempts(filter);
  ASSERT_TRUE(attempts.ok()) << attempts.status().ToString();
  EXPECT_EQ(attempts->size(), 5u) << "first, second, other, later, last: the repeated id once";
}

// store.h: CommitBatch: on error nothing of either half is stored; here the failing
// outcome comes after good ones of the same batch: their attempts, delivery updates and
// webhook times are rolled back with it.
TEST_P(StoreConformanceTest, ALaterFailingOutcomeTakesTheWholeBatchBack) {
  ContractsFixture f(*store_);
  const std::string org = f.NewOrganization();
  const Webhook w = f.NewWebhook(org);
  const Delivery d = f.Published(w);
  AttemptOutcome good = f.Outcome(d, DeliveryStatus::kSuccess, 1);
  good.consecutive_failures = 0;
  Delivery missing = d;
  missing.id = "no-such-delivery";
  const PublishRequest publish = f.NewPublish(w);
  Result<std::vector<PublishResult>> result =
      store_->CommitBatch({publish}, {good, f.Outcome(missing, DeliveryStatus::kFailed, 1)});
  EXPECT_FALSE(result.ok());

  AttemptFilter filter;
  filter.organization_id = org;
  filter.limit = 10;
  Result<std::vector<Attempt>> attempts = store_->ListAttempts(filter);
  ASSERT_TRUE(attempts.ok()) << attempts.status().ToString();
  EXPECT_TRUE(attempts->empty());
  EXPECT_EQ(store_->GetDelivery("", d.id)->delivery.status, DeliveryStatus::kPending);
  EXPECT_EQ(store_->GetDelivery("", d.id)->delivery.attempts, 0);
  Result<Webhook> got = store_->GetWebhook(org, w.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->last_triggered_at, std::nullopt);
  EXPECT_EQ(got->last_success_at, std::nullopt);
  EXPECT_EQ(store_->GetEvent("", publish.event.id).status().code(), ErrorCode::kNotFound);
}

// store.h: UpdateWebhook replaces every field but id, organization_id and created_at (and
// the engine's last_triggered_at); kNotFound, changing nothing, for another organization's
// or a deleted webhook. CreateWebhook: kAlreadyExists for a taken id, changing nothing.
TEST_P(StoreConformanceTest, WebhookWritesKeepWhatTheyDoNotOwnAndFailWithoutChanges) {
  ContractsFixture f(*store_);
  const std::string org = f.NewOrganization(), other = f.NewOrganization();
  const Webhook w = f.NewWebhook(org);
  ASSERT_TRUE(store_->RecordOutcomes({f.Outcome(f.Published(w), DeliveryStatus::kSuccess, 1)}).ok());
  const std::optional<TimePoint> triggered = store_->GetWebhook(org, w.id)->last_triggered_at;
  ASSERT_TRUE(triggered.has_value());

  Webhook patch = w;
  patch.name = "renamed";
  patch.created_at = w.created_at + seconds(100);
  patch.last_triggered_at = std::nullopt;
  patch.updated_at = f.clock.Now();
  ASSERT_TRUE(store_->UpdateWebhook(patch).ok());
  Result<Webhook> got = store_->GetWebhook(org, w.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->name, "renamed");
  EXPECT_EQ(got->created_at, w.created_at);
  EXPECT_EQ(got->last_triggered_at, triggered);
  EXPECT_EQ(got->updated_at, patch.updated_at);

  Webhook foreign = patch;
  foreign.organization_id = other;
  foreign.name = "stolen";
  EXPECT_EQ(store_->UpdateWebhook(foreign).code(), ErrorCode::kNotFound);
  Webhook taken = f.NewWebhook(other);
  taken.id = w.id;
  taken.name = "duplicate";
  EXPECT_EQ(store_->CreateWebhook(taken).code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(store_->GetWebhook("", w.id)->name, "renamed");
  EXPECT_EQ(store_->GetWebhook("", w.id)->organization_id, org);

  ASSERT_TRUE(store_->DeleteWebhook(org, w.id, f.clock.Now()).ok());
  EXPECT_EQ(store_->UpdateWebhook(patch).code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->DeleteWebhook(org, w.id, f.clock.Now()).code(), ErrorCode::kNotFound);
}

// store.h: ListAttemptsWithStats: both from one snapshot; the stats over the same filter,
// ignoring limit and cursor.
TEST_P(StoreConformanceTest, AttemptStatsIgnoreLimitAndCursorAndMatchTheirList) {
  ContractsFixture f(*store_);
  const std::string org = f.NewOrganization();
  const Webhook w = f.NewWebhook(org);
  std::vector<AttemptOutcome> outcomes;
  for (int i = 1; i <= 3; ++i) outcomes.push_back(f.Outcome(f.Published(w), DeliveryStatus::kSuccess, i));
  outcomes.push_back(f.Outcome(f.Published(w), DeliveryStatus::kFailed, 4));
  ASSERT_TRUE(store_->RecordOutcomes(outcomes).ok());

  AttemptFilter filter;
  filter.organization_id = org;
  filter.limit = 2;
  Result<AttemptLog> log = store_->ListAttemptsWithStats(filter);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  ASSERT_EQ(log->attempts.size(), 2u);
  EXPECT_EQ(log->attempts[0].id, outcomes[3].attempt.id) << "newest first";
  EXPECT_EQ(log->attempts[1].id, outcomes[2].attempt.id);
  EXPECT_EQ(log->stats.total, 4);
  EXPECT_EQ(log->stats.success, 3);
  EXPECT_EQ(log->stats.failed, 1);
  EXPECT_DOUBLE_EQ(log->stats.avg_response_time_ms, 25.0);

  filter.before = log->attempts[1].id;
  filter.status = DeliveryStatus::kSuccess;
  Result<AttemptLog> next = store_->ListAttemptsWithStats(filter);
  ASSERT_TRUE(next.ok());
  ASSERT_EQ(next->attempts.size(), 2u);
  EXPECT_EQ(next->attempts[0].id, outcomes[1].attempt.id);
  EXPECT_EQ(next->attempts[1].id, outcomes[0].attempt.id);
  EXPECT_EQ(next->stats.total, 3);
  EXPECT_EQ(store_->GetAttemptStats(filter)->total, 3);
  EXPECT_EQ(store_->ListAttempts(filter)->size(), 2u);
}

// store.h: WaitForWork blocks until another node announces work or the timeout passes
// (false: nothing announced). Nothing is announced on a fresh store.
TEST_P(StoreConformanceTest, WaitForWorkWithNothingAnnouncedReturnsFalse) {
  EXPECT_FALSE(store_->WaitForWork(std::chrono::milliseconds(1)));
}

// store.h: GetEvent and GetDelivery are scoped (empty organization: any); RequeueDelivery
// of an unknown delivery is kNotFound.
TEST_P(StoreConformanceTest, EventsAndDeliveriesAreScopedToTheirOrganization) {
  ContractsFixture f(*store_);
  const std::string org = f.NewOrganization(), other = f.NewOrganization();
  const Webhook w = f.NewWebhook(org);
  const PublishRequest r = f.NewPublish(w);
  ASSERT_TRUE(store_->Publish({r}).ok());
  EXPECT_TRUE(store_->GetEvent(org, r.event.id).ok());
  EXPECT_TRUE(store_->GetEvent("", r.event.id).ok());
  EXPECT_EQ(store_->GetEvent(other, r.event.id).status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(store_->GetDelivery(org, r.deliveries[0].id).ok());
  EXPECT_EQ(store_->GetDelivery(other, r.deliveries[0].id).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->RequeueDelivery("no-such-delivery", f.clock.Now()).code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->RequeueDelivery(r.deliveries[0].id, f.clock.Now()).code(), ErrorCode::kAlreadyExists)
      << "still pending";
}

// store.h: ListPendingDeliveries: still pending or retrying, ordered by id, after `after`.
TEST_P(StoreConformanceTest, PendingDeliveriesArePagedByIdAfterTheCursor) {
  ContractsFixture f(*store_);
  const Webhook w = f.NewWebhook(f.NewOrganization());
  const Delivery a = f.Published(w), b = f.Published(w), done = f.Published(w), c = f.Published(w);
  ASSERT_TRUE(store_->RecordOutcomes({f.Outcome(done, DeliveryStatus::kSuccess, 1)}).ok());
  Result<std::vector<PendingDelivery>> first = store_->ListPendingDeliveries("", 2);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].delivery.id, a.id);
  EXPECT_EQ((*first)[1].delivery.id, b.id);
  EXPECT_EQ((*first)[0].payload != nullptr ? *(*first)[0].payload : "", R"({"event":"order.created"})");
  Result<std::vector<PendingDelivery>> rest = store_->ListPendingDeliveries(b.id, 2);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*rest)[0].delivery.id, c.id);
}

// store.h: ListDueDeliveriesForWebhook: one webhook's open deliveries by (next_attempt_at,
// id) after the cursor; a retrying one moves to its new due time; other webhooks' and
// finished ones are not listed.
TEST_P(StoreConformanceTest, DueDeliveriesOfAWebhookArePagedByDueTimeAfterTheCursor) {
  ContractsFixture f(*store_);
  const std::string org = f.NewOrganization();
  const Webhook w = f.NewWebhook(org), other = f.NewWebhook(org);
  const Delivery a = f.Published(w), retried = f.Published(w), done = f.Published(w), b = f.Published(w);
  f.Published(other);
  const Delivery c = f.Published(w);
  AttemptOutcome retry = f.Outcome(retried, DeliveryStatus::kRetrying, 1);  // due in 60 s: last
  ASSERT_TRUE(store_->RecordOutcomes({retry, f.Outcome(done, DeliveryStatus::kSuccess, 1)}).ok());
  auto ids = [](const Result<std::vector<PendingDelivery>>& page) {
    std::vector<std::string> out;
    if (page.ok()) for (const PendingDelivery& p : *page) out.push_back(p.delivery.id);
    return out;
  };
  Result<std::vector<PendingDelivery>> first = store_->ListDueDeliveriesForWebhook(w.id, TimePoint{}, "", 2);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(ids(first), (std::vector<std::string>{a.id, b.id}));
  EXPECT_EQ((*first)[0].payload != nullptr ? *(*first)[0].payload : "", R"({"event":"order.created"})");
  const Delivery& last = (*first)[1].delivery;
  EXPECT_EQ(ids(store_->ListDueDeliveriesForWebhook(w.id, last.next_attempt_at, last.id, 10)),
            (std::vector<std::string>{c.id, retried.id}));
  // "" after the time: every delivery due at that time, b included.
  EXPECT_EQ(ids(store_->ListDueDeliveriesForWebhook(w.id, b.next_attempt_at, "", 1)), (std::vector<std::string>{b.id}));
  EXPECT_TRUE(ids(store_->ListDueDeliveriesForWebhook(w.id, retry.next_attempt_at, retried.id, 10)).empty());
}

// store.h: ListDeadOutcomes: the parked outcomes, oldest first, at most `limit`.
TEST_P(StoreConformanceTest, DeadOutcomesAreListedOldestFirstUpToTheLimit) {
  ContractsFixture f(*store_);
  const Webhook w = f.NewWebhook(f.NewOrganization());
  const Delivery d = f.Published(w);
  std::vector<DeadOutcome> parked;
  for (int i = 1; i <= 3; ++i) {
    f.clock.Advance(seconds(1));
    parked.push_back({f.Outcome(d, DeliveryStatus::kFailed, i), "error " + std::to_string(i), i, f.clock.Now()});
  }
  for (int i : {2, 0, 1}) ASSERT_TRUE(store_->RecordDeadOutcome(parked[static_cast<size_t>(i)]).ok());
  Result<std::vector<DeadOutcome>> got = store_->ListDeadOutcomes(2);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].outcome.attempt.id, parked[0].outcome.attempt.id);
  EXPECT_EQ((*got)[1].outcome.attempt.id, parked[1].outcome.attempt.id);
  EXPECT_EQ((*got)[1].error, "error 2");
  EXPECT_EQ((*got)[1].created_at, parked[1].created_at);
}

// store.h: RequeueDelivery: kAlreadyExists when the delivery is already pending or
// retrying, so of two concurrent requeues exactly one wins.
TEST_P(StoreConformanceTest, OfTwoConcurrentRequeuesExactlyOneWins) {
  ContractsFixture f(*store_);
  const Webhook w = f.NewWebhook(f.NewOrganization());
  const Delivery d = f.Published(w);
  ASSERT_TRUE(store_->RecordOutcomes({f.Outcome(d, DeliveryStatus::kFailed, 1)}).ok());
  const TimePoint now = f.clock.Now();
  Status first, second;
  std::thread other([&] { second = store_->RequeueDelivery(d.id, now); });
  first = store_->RequeueDelivery(d.id, now);
  other.join();
  EXPECT_NE(first.ok(), second.ok()) << first.ToString() << " / " << second.ToString();
  EXPECT_EQ((first.ok() ? second : first).code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(store_->GetDelivery("", d.id)->delivery.status, DeliveryStatus::kPending);
}

}  // namespace
}  // namespace ulak::store::testing
