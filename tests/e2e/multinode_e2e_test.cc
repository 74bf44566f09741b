// End-to-end tests of several `ulak serve` nodes sharing one PostgreSQL database (issue 6,
// SPEC §11): the real binary, started two or three times against a throwaway PostgreSQL
// cluster on a Unix socket (support/postgres_cluster.h), delivering to a real HTTP sink on
// 127.0.0.1 (support/sink.h).
//
// What they show: a node killed with SIGKILL mid-run loses nothing (its claimed deliveries
// are taken over once their leases expire, ULAK_LEASE_S=3 here), and the duplicates it
// causes are counted and reported; idempotent publish holds across nodes; a PostgreSQL
// crash and restart mid-run is survived (503 + Retry-After meanwhile, never 202 for
// something lost); work requeued on one node for a delivery another node failed is sent
// once, promptly; a due retry held by a dead node is sent by another; a webhook created on
// one node reaches the others' publishes within the documented cache TTL; a webhook changed
// or deleted on one node applies to the retries another node holds.
//
// Delivery is at least once: the sink may see an event more than once (reported, bounded),
// but always under the same webhook-id. Events are numbered in their "data" ({"n": N}) so
// the sink's requests can be matched to the publishes that were accepted (202).
//
// Timing: nodes run with ASan, so runs are sized small (a few hundred events); waits poll
// with generous timeouts, and only loose bounds are asserted.
#include <signal.h>

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <iostream>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "e2e/multinode_fixture.h"

namespace ulak::testing {
namespace {

using namespace multinode;

class MultiNodeE2E : public MultiNodeFixture {};

// ---------------------------------------------------------------------------------------
// Three nodes, events published round-robin through all three, node 2 killed with SIGKILL
// while it holds deliveries in flight and queued (the sink answers after 100 ms and each
// node sends at most 4 at once, so publishing outruns it). Publishing goes on through nodes
// 1 and 3. Every accepted event reaches the sink at least once; the duplicates (only what
// node 2 had sent but not yet recorded) are reported and bounded; copies of one event all
// carry the same webhook-id.
TEST_F(MultiNodeE2E, KilledNodeLosesNoAcceptedEventAndDuplicatesAreOnlyItsInFlightWork) {
  constexpr int kEvents = 300;
  constexpr int kPublishers = 4;  // concurrent publishing threads
  constexpr int kMaxInFlight = 4;
  constexpr size_t kVictim = 1;  // node 2

  ASSERT_NO_FATAL_FAILURE(StartNodes(3));
  ASSERT_NO_FATAL_FAILURE(CreateOrgVia(0));
  sink_.SetBehaviour("/mn", SinkBehaviour::Delayed(100ms));
  const std::string webhook_id = CreateWebhookVia(0, sink_.Url("/mn"), {{"max_in_flight", kMaxInFlight}});
  ASSERT_FALSE(webhook_id.empty());

  // Per event: the node it went through and the answer's status (0: no answer, e.g. the
  // connection was cut by the kill). Each slot is written by one publisher thread only and
  // read after they are joined (or, for the kill decision, under results_mu).
  std::vector<int> via(kEvents, -1), status(kEvents, -1);
  std::vector<std::string> errors(kEvents);
  std::mutex results_mu;
  std::atomic<bool> victim_dead{false};
  std::atomic<int> done{0};
  std::vector<std::thread> publishers;
  const auto started = Clock::now();
  for (int t = 0; t < kPublishers; ++t) {
    publishers.emplace_back([&, t] {
      for (int n = t; n < kEvents; n += kPublishers) {
        size_t node = static_cast<size_t>(n % 3);
        if (node == kVictim && victim_dead) node = (n / 3) % 2 == 0 ? 0 : 2;
        HttpResult r = PublishVia(node, n, "mn-" + std::to_string(n));
        {
          std::lock_guard lock(results_mu);
          via[static_cast<size_t>(n)] = static_cast<int>(node);
          status[static_cast<size_t>(n)] = r.status;
          errors[static_cast<size_t>(n)] = r.status == 0 ? r.error : r.body;
        }
        ++done;
      }
    });
  }

  // Kill node 2 once a third of the events are out and it is behind: more accepted through
  // it than the sink has seen from them, beyond what it can have in flight.
  const auto accepted_through = [&](size_t node) {
    std::set<int> out;
    std::lock_guard lock(results_mu);
    for (int n = 0; n < kEvents; ++n) {
      if (via[static_cast<size_t>(n)] == static_cast<int>(node) && status[static_cast<size_t>(n)] == 202) out.insert(n);
    }
    return out;
  };
  const auto victim_backlog = [&] {
    const std::set<int> through_victim = accepted_through(kVictim);  // before the sink is read
    return Missing(Summarize(sink_, "/mn"), through_victim).size();
  };
  Eventually([&] { return done >= kEvents / 3 && victim_backlog() >= 2 * kMaxInFlight; }, 30s);
  victim_dead = true;
  const size_t backlog_at_kill = victim_backlog();
  const int done_at_kill = done;
  KillNode(kVictim);
  const auto killed_at = Clock::now();
  for (auto& t : publishers) t.join();
  const auto published_at = Clock::now();
  // Every answer from node 2 came before the kill.
  const std::set<int> accepted_via_victim = accepted_through(kVictim);

  std::set<int> accepted;
  int unavailable = 0, unanswered = 0, other = 0;
  std::string first_other;
  for (int n = 0; n < kEvents; ++n) {
    const int s = status[static_cast<size_t>(n)];
    if (s == 202) {
      accepted.insert(n);
    } else if (s == 503) {
      ++unavailable;
    } else if (s == 0) {
      ++unanswered;
    } else {
      ++other;
      if (first_other.empty()) first_other = std::to_string(s) + " " + errors[static_cast<size_t>(n)];
    }
  }
  // Only publishes cut by the kill can go unanswered: at most one per publishing thread.
  EXPECT_LE(unanswered, kPublishers);
  EXPECT_EQ(other, 0) << "first: " << first_other;
  EXPECT_GE(backlog_at_kill, static_cast<size_t>(kMaxInFlight))
      << "node 2 was not behind when killed: the test shows no takeover";

  const Received got = WaitUntilDelivered(sink_, "/mn", accepted, 45s);
  const auto delivered_at = Clock::now();
  const std::vector<int> missing = Missing(got, accepted);
  EXPECT_TRUE(missing.empty()) << missing.size() << " accepted events never reached the sink: " << Join(missing);
  // Late copies (a takeover racing the end) are counted too: once every delivery is recorded
  // as a success and no node holds one, nothing more can be sent.
  const std::vector<std::string> unfinished = NotSucceeded(0, got, accepted);
  WaitUntilNoNodeHoldsAny();
  const Received final_got = Summarize(sink_, "/mn");
  const Duplicates dups = CountDuplicates(final_got, accepted);
  size_t unaccepted_requests = 0;
  for (const auto& [n, c] : final_got.count) {
    if (accepted.count(n) == 0) unaccepted_requests += c;
  }

  Report("duplicates", static_cast<double>(dups.extra_requests),
         "kill -9 of 1 of 3 nodes: " + std::to_string(accepted.size()) + " accepted (" +
             std::to_string(accepted_via_victim.size()) + " through node 2 before the kill, " +
             std::to_string(backlog_at_kill) + " of them not yet at the sink when killed, after " +
             std::to_string(done_at_kill) + " publishes), " + std::to_string(unavailable) + " answered 503, " +
             std::to_string(unanswered) + " unanswered; sink requests " + std::to_string(final_got.total) +
             ", duplicates " + std::to_string(dups.extra_requests) + ", requests for unaccepted events " +
             std::to_string(unaccepted_requests) + "; publishing took " +
             std::to_string(Seconds(published_at - started)) + " s, all delivered " +
             std::to_string(Seconds(delivered_at - killed_at)) + " s after the kill");
  RecordProperty("backlog_at_kill", std::to_string(backlog_at_kill));
  RecordProperty("accepted", std::to_string(accepted.size()));

  // Only node 2's in-flight or sent-but-unrecorded work may be sent twice.
  EXPECT_LE(dups.extra_requests, accepted_via_victim.size() + kMaxInFlight);
  EXPECT_TRUE(dups.unstable_ids.empty()) << "copies of one event carried different webhook-ids: "
                                         << Join(dups.unstable_ids);
  EXPECT_EQ(final_got.count.count(-1), 0u) << "a delivery without data.n";
  EXPECT_TRUE(unfinished.empty()) << unfinished.size() << " delivered but not recorded as success, first: "
                                  << (unfinished.empty() ? "" : unfinished.front());

  // The survivors are well.
  for (size_t i : {size_t{0}, size_t{2}}) {
    EXPECT_EQ(CallNode(i, "GET", "/healthz", "").status, 200);
    EXPECT_EQ(CallNode(i, "GET", "/readyz", "").status, 200);
  }
}

// ---------------------------------------------------------------------------------------
// Idempotent publish across nodes: the same event_id published at the same moment through
// the three nodes is stored once; every answer is 202 with the same event id, exactly one
// is the original (the others carry Idempotent-Replayed: true), and the sink receives it once.
TEST_F(MultiNodeE2E, SameEventIdPublishedConcurrentlyThroughThreeNodesIsDeliveredOnce) {
  constexpr int kRounds = 10;
  ASSERT_NO_FATAL_FAILURE(StartNodes(3));
  ASSERT_NO_FATAL_FAILURE(CreateOrgVia(0));
  ASSERT_FALSE(CreateWebhookVia(1, sink_.Url("/idem")).empty());

  for (int round = 0; round < kRounds; ++round) {
    const std::string event_id = "idem-" + std::to_string(round);
    std::vector<HttpResult> answers(3);
    std::latch go(3);
    std::vector<std::thread> threads;
    for (size_t i = 0; i < 3; ++i) {
      threads.emplace_back([&, i] {
        go.arrive_and_wait();
        answers[i] = PublishVia(i, round, event_id);
      });
    }
    for (auto& t : threads) t.join();
    std::set<std::string> ids;
    int originals = 0;
    for (size_t i = 0; i < 3; ++i) {
      ASSERT_EQ(answers[i].status, 202) << "node " << i + 1 << ": " << answers[i].body << answers[i].error;
      const json::value v = Json(answers[i]);
      ids.insert(Str(Member(Member(v, "event"), "id")));
      EXPECT_EQ(Member(Member(v, "event"), "event_id"), json::value(event_id)) << answers[i].body;
      EXPECT_EQ(Member(v, "deliveries"), json::value(1)) << answers[i].body;
      if (answers[i].Header("Idempotent-Replayed") != "true") ++originals;
    }
    EXPECT_EQ(ids.size(), 1u) << "round " << round << ": different event ids";
    EXPECT_FALSE(ids.begin()->empty());
    EXPECT_EQ(originals, 1) << "round " << round << ": answers not marked as replays";
  }

  std::set<int> all;
  for (int round = 0; round < kRounds; ++round) all.insert(round);
  const Received delivered = WaitUntilDelivered(sink_, "/idem", all, 20s);
  ASSERT_TRUE(Missing(delivered, all).empty());
  // Recorded as sent and held by no node: a second copy would have been sent by now.
  EXPECT_TRUE(NotSucceeded(0, delivered, all).empty());
  WaitUntilNoNodeHoldsAny();
  const Received got = Summarize(sink_, "/idem");
  EXPECT_EQ(got.total, static_cast<size_t>(kRounds));
  for (const auto& [n, c] : got.count) EXPECT_EQ(c, 1u) << "event " << n << " was delivered " << c << " times";
}

// ---------------------------------------------------------------------------------------
// PostgreSQL crashes (pg_ctl stop -m immediate) for ~2 s and comes back while two nodes
// take a steady stream of publishes. Meanwhile publishes get 503 with Retry-After and the
// error shape (never 202 for something then lost), /healthz still answers and /readyz does
// not claim readiness; afterwards both nodes are ready again, publishing works, and every
// event that got 202 reaches the sink.
TEST_F(MultiNodeE2E, PostgresRestartMidRunLosesNoAcceptedEvent) {
  ASSERT_NO_FATAL_FAILURE(StartNodes(2));
  ASSERT_NO_FATAL_FAILURE(CreateOrgVia(0));
  // Slow enough that deliveries are in flight when the server goes and finish while it is
  // away: their outcomes cannot be recorded then.
  sink_.SetBehaviour("/pg", SinkBehaviour::Delayed(150ms));
  ASSERT_FALSE(CreateWebhookVia(1, sink_.Url("/pg"), {{"max_in_flight", 4}}).empty());

  struct Outcome {
    int n;
    size_t via;
    HttpResult result;
    Clock::time_point sent;
    Clock::time_point answered;
  };
  std::mutex mu;
  std::vector<Outcome> outcomes;  // GUARDED_BY(mu)
  std::atomic<bool> stop{false};
  std::thread publisher([&] {
    for (int n = 0; !stop; ++n) {
      const size_t node = static_cast<size_t>(n % 2);
      const auto sent = Clock::now();
      HttpResult r = PublishVia(node, n, "pg-" + std::to_string(n));
      const auto answered = Clock::now();
      {
        std::lock_guard lock(mu);
        outcomes.push_back(Outcome{n, node, std::move(r), sent, answered});
      }
      std::this_thread::sleep_for(20ms);
    }
  });
  const auto count_202_after = [&](Clock::time_point t) {
    std::lock_guard lock(mu);
    return std::count_if(outcomes.begin(), outcomes.end(),
                         [&](const Outcome& o) { return o.sent >= t && o.result.status == 202; });
  };

  std::this_thread::sleep_for(1500ms);
  const auto outage_start = Clock::now();
  Status stopped = cluster_->StopForTest();
  ASSERT_TRUE(stopped.ok()) << stopped.message();
  cluster_stopped_ = true;
  const auto outage_confirmed = Clock::now();
  // During the outage: alive, not ready.
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(CallNode(i, "GET", "/healthz", "").status, 200) << "node " << i + 1;
    HttpResult ready = CallNode(i, "GET", "/readyz", "");
    EXPECT_EQ(ready.status, 503) << "node " << i + 1 << " claims readiness without its database: " << ready.body;
  }
  std::this_thread::sleep_for(2s);
  const auto restart_begin = Clock::now();
  Status started = cluster_->StartForTest();
  ASSERT_TRUE(started.ok()) << started.message();
  cluster_stopped_ = false;
  const auto outage_end = Clock::now();

  for (size_t i = 0; i < 2; ++i) {
    EXPECT_TRUE(Eventually([&] { return CallNode(i, "GET", "/readyz", "").status == 200; }, 20s))
        << "node " << i + 1 << " never became ready again";
  }
  const bool resumed = Eventually([&] { return count_202_after(outage_end) >= 20; }, 20s);
  stop = true;
  publisher.join();
  EXPECT_TRUE(resumed) << "publishing did not work again after the restart";

  std::set<int> accepted;
  int during_outage_202 = 0, unavailable = 0, other = 0;
  std::string first_bad_503, first_other;
  for (const Outcome& o : outcomes) {
    if (o.result.status == 202) {
      accepted.insert(o.n);
      // Sent while the server was fully down and answered before it was back: impossible.
      if (o.sent >= outage_confirmed && o.answered <= restart_begin) ++during_outage_202;
    } else if (o.result.status == 503) {
      ++unavailable;
      const std::string problem = UnavailableShapeProblem(o.result);
      if (!problem.empty() && first_bad_503.empty()) first_bad_503 = problem;
    } else {
      ++other;
      if (first_other.empty()) {
        first_other = "event " + std::to_string(o.n) + " via node " + std::to_string(o.via + 1) + ": " +
                      std::to_string(o.result.status) + " " + o.result.body + o.result.error;
      }
    }
  }
  EXPECT_GT(unavailable, 0) << "no publish saw the outage";
  EXPECT_TRUE(first_bad_503.empty()) << first_bad_503;
  EXPECT_EQ(other, 0) << "answers other than 202/503, first: " << first_other;
  EXPECT_EQ(during_outage_202, 0) << "202 while the database was down";

  const Received got = WaitUntilDelivered(sink_, "/pg", accepted, 40s);
  const std::vector<int> missing = Missing(got, accepted);
  EXPECT_TRUE(missing.empty()) << missing.size() << " accepted events never reached the sink: " << Join(missing);
  // Recorded as sent, and held by no node: every request there will be is at the sink.
  const std::vector<std::string> unfinished = NotSucceeded(0, got, accepted);
  WaitUntilNoNodeHoldsAny();
  const Received final_got = Summarize(sink_, "/pg");
  const Duplicates dups = CountDuplicates(final_got, accepted);
  EXPECT_TRUE(dups.unstable_ids.empty()) << "copies of one event carried different webhook-ids: "
                                         << Join(dups.unstable_ids);
  size_t unaccepted_requests = 0;
  for (const auto& [n, c] : final_got.count) {
    if (accepted.count(n) == 0) unaccepted_requests += c;
  }
  EXPECT_TRUE(unfinished.empty()) << unfinished.size() << " delivered but not recorded as success, first: "
                                  << (unfinished.empty() ? "" : unfinished.front());
  Report("restart_duplicates", static_cast<double>(dups.extra_requests),
         "PostgreSQL restart: " + std::to_string(outcomes.size()) + " publishes, " + std::to_string(accepted.size()) +
             " accepted, " + std::to_string(unavailable) + " answered 503; outage " +
             std::to_string(Seconds(outage_end - outage_start)) + " s; sink requests " +
             std::to_string(final_got.total) + ", duplicates " + std::to_string(dups.extra_requests) +
             ", requests for unaccepted (503) events " + std::to_string(unaccepted_requests));
  for (size_t i = 0; i < 2; ++i) EXPECT_EQ(CallNode(i, "GET", "/healthz", "").status, 200);
}

// ---------------------------------------------------------------------------------------
// Work started on one node for a delivery another node failed: node 1 sends and fails
// (retry_enabled false, sink 500); node 2 retries that delivery (POST
// /api/deliveries/{id}/retry), then recovers the webhook's later failures (POST
// /api/webhooks/{id}/recover). Each is sent promptly, once, under its first webhook-id.
TEST_F(MultiNodeE2E, RetryAndRecoverOnAnotherNodeAreSentPromptlyAndOnce) {
  ASSERT_NO_FATAL_FAILURE(StartNodes(2));
  ASSERT_NO_FATAL_FAILURE(CreateOrgVia(0));
  sink_.SetBehaviour("/wake", SinkBehaviour::Statuses({500, 200, 500, 500, 200}));
  const std::string webhook_id = CreateWebhookVia(0, sink_.Url("/wake"), {{"retry_enabled", false}});
  ASSERT_FALSE(webhook_id.empty());

  ASSERT_EQ(PublishVia(0, 1).status, 202);
  ASSERT_TRUE(sink_.WaitForCount("/wake", 1));
  const std::string first_id = sink_.Requests("/wake").at(0).Header("webhook-id");
  ASSERT_TRUE(WaitForDeliveryVia(1, first_id, "failed", 1));

  auto t0 = Clock::now();
  HttpResult r = CallNode(1, "POST", "/api/deliveries/" + first_id + "/retry", org_key_);
  ASSERT_EQ(r.status, 202) << r.body;
  ASSERT_TRUE(sink_.WaitForCount("/wake", 2, 10s)) << "the retry was never sent";
  const double retry_latency = Seconds(Clock::now() - t0);
  EXPECT_EQ(sink_.Requests("/wake").at(1).Header("webhook-id"), first_id);
  EXPECT_LT(retry_latency, 5.0);

  // Two more failures through node 1, recovered through node 2.
  ASSERT_EQ(PublishVia(0, 2).status, 202);
  ASSERT_EQ(PublishVia(0, 3).status, 202);
  ASSERT_TRUE(sink_.WaitForCount("/wake", 4));
  std::set<std::string> failed;
  for (size_t i = 2; i < 4; ++i) failed.insert(sink_.Requests("/wake").at(i).Header("webhook-id"));
  for (const std::string& id : failed) ASSERT_TRUE(WaitForDeliveryVia(1, id, "failed", 1));
  // The first one succeeded on its retry; its outcome may still be on its way.
  ASSERT_TRUE(WaitForDeliveryVia(1, first_id, "success", 2));

  t0 = Clock::now();
  r = CallNode(1, "POST", "/api/webhooks/" + webhook_id + "/recover", org_key_, R"({"since":"0"})");
  ASSERT_EQ(r.status, 202) << r.body;
  const std::string job_id = Str(Member(Member(Json(r), "job"), "id"));
  ASSERT_TRUE(sink_.WaitForCount("/wake", 6, 10s)) << "the recovered deliveries were never sent";
  const double recover_latency = Seconds(Clock::now() - t0);
  std::set<std::string> resent;
  for (size_t i = 4; i < 6; ++i) resent.insert(sink_.Requests("/wake").at(i).Header("webhook-id"));
  EXPECT_EQ(resent, failed);
  EXPECT_LT(recover_latency, 5.0);
  // The job is visible from the other node too.
  EXPECT_TRUE(Eventually([&] {
    HttpResult j = CallNode(0, "GET", "/api/jobs/" + job_id, org_key_);
    return j.status == 200 && Member(Member(Json(j), "job"), "status") == json::value("completed");
  })) << "job " << job_id;
  for (const std::string& id : failed) EXPECT_TRUE(WaitForDeliveryVia(0, id, "success", 2));

  WaitUntilNoNodeHoldsAny();  // then nothing is left to send: no node sent anything twice
  EXPECT_EQ(sink_.Count("/wake"), 6u);
  Report("retry_latency_s", retry_latency,
         "retry on another node sent after " + std::to_string(retry_latency) + " s, recover after " +
             std::to_string(recover_latency) + " s");
}

// ---------------------------------------------------------------------------------------
// Due retries are shared too: node 1's delivery fails and waits for its retry (2 s); node 1
// is killed; node 2 takes the retry over once the lease (3 s) runs out and sends it under
// the same webhook-id.
TEST_F(MultiNodeE2E, RetryHeldByAKilledNodeIsSentByAnother) {
  ASSERT_NO_FATAL_FAILURE(StartNodes(2));
  ASSERT_NO_FATAL_FAILURE(CreateOrgVia(1));
  sink_.SetBehaviour("/later", SinkBehaviour::Statuses({500, 200}));
  const std::string webhook_id = CreateWebhookVia(
      1, sink_.Url("/later"),
      {{"retry_policy", json::object{{"kind", "custom"}, {"delays_s", json::array{2}}}}, {"max_retries", 1}});
  ASSERT_FALSE(webhook_id.empty());

  ASSERT_EQ(PublishVia(0, 7).status, 202);
  ASSERT_TRUE(sink_.WaitForCount("/later", 1));
  const std::string id = sink_.Requests("/later").at(0).Header("webhook-id");
  ASSERT_TRUE(WaitForDeliveryVia(1, id, "retrying", 1, 10s));
  KillNode(0);
  const auto killed_at = Clock::now();
  ASSERT_EQ(sink_.Count("/later"), 1u) << "node 1 sent the retry before it was killed: nothing to take over";

  ASSERT_TRUE(sink_.WaitForCount("/later", 2, 20s)) << "nobody sent the dead node's retry";
  const double takeover = Seconds(Clock::now() - killed_at);
  EXPECT_EQ(sink_.Requests("/later").at(1).Header("webhook-id"), id);
  EXPECT_EQ(EventNumber(sink_.Requests("/later").at(1)), 7);
  EXPECT_TRUE(WaitForDeliveryVia(1, id, "success", 2));
  WaitUntilNoNodeHoldsAny();
  EXPECT_EQ(sink_.Count("/later"), 2u);
  Report("retry_takeover_s", takeover, "retry of a killed node sent " + std::to_string(takeover) + " s after the kill");
}

// ---------------------------------------------------------------------------------------
// A webhook created through one node is seen by the others' publishers within
// Publisher::kSubscriptionTtl (2 s): until then an event accepted by another node that
// had already cached the organization's webhooks gets no delivery to it. The window is
// measured and reported; the documented bound (plus slack) is asserted.
TEST_F(MultiNodeE2E, WebhookCreatedOnOneNodeReachesAnotherNodesPublishesWithinTheCacheTtl) {
  ASSERT_NO_FATAL_FAILURE(StartNodes(2));
  ASSERT_NO_FATAL_FAILURE(CreateOrgVia(0));
  HttpResult r = PublishVia(1, 0);  // node 2 caches "no webhooks"
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(Member(Json(r), "deliveries"), json::value(0)) << r.body;

  ASSERT_FALSE(CreateWebhookVia(0, sink_.Url("/seen")).empty());
  const auto created_at = Clock::now();
  int n = 1;
  int missed = 0;
  std::set<int> delivered_expected;
  const bool seen = Eventually([&] {
    HttpResult p = PublishVia(1, n);
    const bool has = p.status == 202 && Member(Json(p), "deliveries") == json::value(1);
    if (has) delivered_expected.insert(n);
    if (p.status == 202 && !has) ++missed;
    ++n;
    return has;
  }, 10s);
  const double window = Seconds(Clock::now() - created_at);
  ASSERT_TRUE(seen) << "node 2 never published to the webhook created through node 1";
  EXPECT_LT(window, 3.5) << "beyond the documented 2 s subscription cache";
  Report("subscription_staleness_s", window,
         "node 2 published " + std::to_string(missed) + " event(s) with no delivery for " +
             std::to_string(window) + " s after the webhook was created through node 1");
  EXPECT_TRUE(Missing(WaitUntilDelivered(sink_, "/seen", delivered_expected, 20s), delivered_expected).empty());
}

// ---------------------------------------------------------------------------------------
// Webhooks changed or deleted through one node apply to the deliveries another node holds
// in memory (queued or waiting for a retry): the Claimer refreshes the configuration of held
// webhooks once its cache expires (ClaimerOptions::config_ttl, 2 s), and a lease renewal
// drops what the store no longer has open. The retries below wait 6 s, so the refresh has
// margin on a loaded machine.
//
// A webhook changed on one node applies to the deliveries another node holds: node 2's
// delivery fails and waits 6 s for its retry; meanwhile the webhook's URL is changed
// through node 1. The retry must go to the new URL.
TEST_F(MultiNodeE2E, UrlChangedOnOneNodeAppliesToARetryHeldByAnother) {
  ASSERT_NO_FATAL_FAILURE(StartNodes(2));
  ASSERT_NO_FATAL_FAILURE(CreateOrgVia(0));
  sink_.SetBehaviour("/old", SinkBehaviour::Statuses({500}));
  const std::string webhook_id = CreateWebhookVia(
      0, sink_.Url("/old"),
      {{"retry_policy", json::object{{"kind", "custom"}, {"delays_s", json::array{6}}}}, {"max_retries", 1}});
  ASSERT_FALSE(webhook_id.empty());
  ASSERT_EQ(PublishVia(1, 11).status, 202);
  ASSERT_TRUE(sink_.WaitForCount("/old", 1));
  const std::string id = sink_.Requests("/old").at(0).Header("webhook-id");
  ASSERT_TRUE(WaitForDeliveryVia(0, id, "retrying", 1, 10s));

  HttpResult r = CallNode(0, "PATCH", "/api/webhooks/" + webhook_id, org_key_,
                          json::serialize(json::object{{"url", sink_.Url("/new")}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(sink_.WaitFor([](const std::vector<SinkRequest>& all) { return all.size() >= 2; }, 10s))
      << "the retry was never sent";
  EXPECT_TRUE(WaitForDeliveryVia(0, id, "success", 2));
  WaitUntilNoNodeHoldsAny();
  EXPECT_EQ(sink_.Count("/new"), 1u) << "the retry did not go to the new URL";
  EXPECT_EQ(sink_.Count("/old"), 1u) << "the retry went to the URL the webhook no longer has";
}

// A webhook deleted through node 1 gets nothing more from node 2, which holds one of its
// deliveries waiting for a retry.
TEST_F(MultiNodeE2E, WebhookDeletedOnOneNodeGetsNoRetryFromAnother) {
  ASSERT_NO_FATAL_FAILURE(StartNodes(2));
  ASSERT_NO_FATAL_FAILURE(CreateOrgVia(0));
  sink_.SetBehaviour("/gone", SinkBehaviour::Statuses({500}));
  const std::string webhook_id = CreateWebhookVia(
      0, sink_.Url("/gone"),
      {{"retry_policy", json::object{{"kind", "custom"}, {"delays_s", json::array{6}}}}, {"max_retries", 1}});
  ASSERT_FALSE(webhook_id.empty());
  ASSERT_EQ(PublishVia(1, 12).status, 202);
  ASSERT_TRUE(sink_.WaitForCount("/gone", 1));
  const std::string id = sink_.Requests("/gone").at(0).Header("webhook-id");
  ASSERT_TRUE(WaitForDeliveryVia(0, id, "retrying", 1, 10s));

  HttpResult r = CallNode(0, "DELETE", "/api/webhooks/" + webhook_id, org_key_);
  ASSERT_EQ(r.status, 204) << r.body;
  // Node 2 learns of the deletion at its next lease renewal (every lease/3 = 1 s), or when
  // its cached configuration expires (2 s), and drops the retry (due 6 s after the first
  // try). Until it lets go of it, or sends it, it holds it: when no node holds anything, the
  // retry was either dropped or sent, and the count tells which.
  WaitUntilNoNodeHoldsAny();
  EXPECT_EQ(sink_.Count("/gone"), 1u) << "a deleted webhook still received its retry";
}


// ---------------------------------------------------------------------------------------
// Issue 15's anchor, Svix PR #2181: a receiver slower than the lease (lease 3 s, answers
// after 5 s) with three nodes. Each delivery must still be sent once: the lease of a request
// in flight is renewed, so no other node claims it meanwhile.
TEST_F(MultiNodeE2E, ReceiverSlowerThanTheLeaseGetsEachDeliveryOnce) {
  ASSERT_NO_FATAL_FAILURE(StartNodes(3));
  ASSERT_NO_FATAL_FAILURE(CreateOrgVia(0));
  sink_.SetBehaviour("/slow", SinkBehaviour::Delayed(5s));
  ASSERT_FALSE(CreateWebhookVia(0, sink_.Url("/slow"), {{"timeout_seconds", 10}, {"max_in_flight", 8}}).empty());
  std::set<int> accepted;
  for (int n = 0; n < 6; ++n) {
    HttpResult r = PublishVia(static_cast<size_t>(n % 3), n);
    ASSERT_EQ(r.status, 202) << r.body;
    accepted.insert(n);
  }
  const Received got = WaitUntilDelivered(sink_, "/slow", accepted, 40s);
  EXPECT_TRUE(Missing(got, accepted).empty());
  // A second claim of any of them (a lease expiring mid-request) would be sent before its
  // delivery is recorded as a success, and held by its node until the slow answer: once
  // every one is recorded and no node holds any, every request there will be is at the sink.
  EXPECT_TRUE(NotSucceeded(0, got, accepted, 30s).empty());
  WaitUntilNoNodeHoldsAny(30s);
  const Received final_got = Summarize(sink_, "/slow");
  const Duplicates dups = CountDuplicates(final_got, accepted);
  EXPECT_EQ(dups.extra_requests, 0u) << "deliveries sent again while their first request was in flight";
  Report("slow_receiver_duplicates", static_cast<double>(dups.extra_requests),
         "receiver 5 s, lease 3 s, 3 nodes: " + std::to_string(accepted.size()) + " events, " +
             std::to_string(final_got.total) + " requests");
}

}  // namespace
}  // namespace ulak::testing

namespace ulak::testing {
namespace {

// Issue 16: ordered delivery on several nodes. Events 1..50 published alternately through
// two nodes to an ordered webhook whose endpoint fails event 1 twice: the receiver sees
// them in publish order, one at a time, none before event 1 succeeded (one node holds the
// webhook's line; the other never sends a delivery of it meanwhile).
TEST_F(MultiNodeE2E, OrderedWebhookIsDeliveredInOrderWhilePublishedThroughTwoNodes) {
  ASSERT_NO_FATAL_FAILURE(StartNodes(2));
  ASSERT_NO_FATAL_FAILURE(CreateOrgVia(0));
  sink_.SetBehaviour("/fifo", SinkBehaviour::Statuses({500, 500, 200}));
  const std::string webhook_id = CreateWebhookVia(
      0, sink_.Url("/fifo"),
      {{"ordered", true}, {"max_in_flight", 8},
       {"retry_policy", json::object{{"kind", "custom"}, {"delays_s", json::array{1, 1, 1}}}}});
  ASSERT_FALSE(webhook_id.empty());
  std::this_thread::sleep_for(2500ms);  // past the other node's subscription cache (2 s)
  for (int n = 1; n <= 50; ++n) ASSERT_EQ(PublishVia(static_cast<size_t>(n % 2), n).status, 202) << n;
  ASSERT_TRUE(sink_.WaitForCount("/fifo", 52, 60s)) << sink_.Count("/fifo");
  std::vector<int> seen;
  for (const SinkRequest& r : sink_.Requests("/fifo")) seen.push_back(EventNumber(r));
  std::vector<int> expected = {1, 1, 1};
  for (int n = 2; n <= 50; ++n) expected.push_back(n);
  EXPECT_EQ(seen, expected);
  WaitUntilNoNodeHoldsAny();
  EXPECT_EQ(sink_.Count("/fifo"), 52u);  // nothing sent twice
}

}  // namespace
}  // namespace ulak::testing
