// End-to-end tests of issue 16 (first half): ordered delivery to a real receiver, endpoint
// health in the webhook API (stored, so it survives a restart), Retry-After and redirects
// in the attempt log, an organization's retention_days, and `ulak prune`.
//
// The real `ulak serve` binary on a temporary SQLite file, sending to an HTTP sink on
// 127.0.0.1 (support/sink.h). Waits poll with generous timeouts; no time bound is asserted.
#include <boost/json/serialize.hpp>

#include <chrono>
#include <functional>
#include <thread>

#include "e2e/server_fixture.h"
#include "support/sink.h"

namespace ulak::testing {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

bool Eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

json::value At(const json::value& v, std::initializer_list<const char*> path) {
  json::value cur = v;
  for (const char* name : path) {
    if (!cur.is_object() || !cur.as_object().contains(name)) return nullptr;
    cur = cur.as_object().at(name);
  }
  return cur;
}

class Issue16E2E : public ServerFixture {
 protected:
  void SetUp() override {}

  void Boot(std::vector<std::string> extra_env = {}) {
    std::vector<std::string> env{"ULAK_ADMIN_KEY=" + kAdminKey};
    env.insert(env.end(), extra_env.begin(), extra_env.end());
    ASSERT_NO_FATAL_FAILURE(Start(std::move(env)));
    if (org_id_.empty()) std::tie(org_id_, org_key_) = CreateOrg("Kebab House");
  }
  void Restart(std::vector<std::string> extra_env = {}) {
    ASSERT_EQ(server_->StopWith(SIGTERM), 0) << server_->Stderr();
    ASSERT_NO_FATAL_FAILURE(Boot(std::move(extra_env)));
  }
  std::string CreateWebhook(json::object fields) {
    fields["name"] = "receiver";
    fields["events"] = json::array{"*"};
    HttpResult r = Call("POST", "/api/webhooks", org_key_, json::serialize(fields));
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(At(Json(r), {"webhook", "id"}).as_string());
  }
  void Publish(int n) {
    HttpResult r = Call("POST", "/api/events", org_key_,
                        json::serialize(json::object{{"event", "order.created"}, {"data", {{"n", n}}}}));
    ASSERT_EQ(r.status, 202) << r.body;
  }
  json::value Webhook(const std::string& id) {
    HttpResult r = Call("GET", "/api/webhooks/" + id, org_key_);
    EXPECT_EQ(r.status, 200) << r.body;
    return At(Json(r), {"webhook"});
  }
  json::value Logs() {
    HttpResult r = Call("GET", "/api/webhooks/logs?organization_id=" + org_id_ + "&limit=100", org_key_);
    EXPECT_EQ(r.status, 200) << r.body;
    return Json(r);
  }

  std::string org_id_, org_key_;
};

// Issue 16: events 1..50 to an endpoint that fails event 1 twice: the receiver sees them
// in order, none before event 1 succeeded.
TEST_F(Issue16E2E, OrderedWebhookDeliversInPublishOrderAndHoldsTheLineForRetries) {
  ASSERT_NO_FATAL_FAILURE(Boot());
  HttpSink sink;
  sink.SetBehaviour("/ordered", SinkBehaviour::Statuses({500, 500, 200}));
  const std::string id = CreateWebhook({{"url", sink.Url("/ordered")},
                                        {"ordered", true},
                                        {"max_in_flight", 8},
                                        {"retry_policy", {{"kind", "fixed"}, {"delays_s", json::array{1, 1, 1}}}}});
  EXPECT_EQ(At(Webhook(id), {"ordered"}), json::value(true));
  for (int n = 1; n <= 50; ++n) ASSERT_NO_FATAL_FAILURE(Publish(n));
  ASSERT_TRUE(sink.WaitForCount("/ordered", 52, 60s)) << sink.Count("/ordered");
  std::vector<int64_t> seen;
  for (const SinkRequest& r : sink.Requests("/ordered")) {
    seen.push_back(At(json::parse(r.body), {"data", "n"}).to_number<int64_t>());
  }
  std::vector<int64_t> expected = {1, 1, 1};
  for (int n = 2; n <= 50; ++n) expected.push_back(n);
  EXPECT_EQ(seen, expected);
}

TEST_F(Issue16E2E, HealthShowsAPausedEndpointAndTheStoredPauseSurvivesARestart) {
  ASSERT_NO_FATAL_FAILURE(Boot({"ULAK_BREAKER_FAILURES=2"}));
  ClosedPort closed;
  const std::string id = CreateWebhook(
      {{"url", "http://127.0.0.1:" + std::to_string(closed.port()) + "/dead"},
       {"retry_policy", {{"kind", "fixed"}, {"delays_s", json::array{3600}}}}});
  json::value health = At(Webhook(id), {"health"});
  EXPECT_EQ(At(health, {"state"}), json::value("ok")) << json::serialize(health);
  EXPECT_TRUE(At(health, {"success_rate_24h"}).is_null());
  for (int n = 1; n <= 4; ++n) ASSERT_NO_FATAL_FAILURE(Publish(n));
  ASSERT_TRUE(Eventually([&] { return At(Webhook(id), {"health", "state"}) == json::value("paused"); }))
      << json::serialize(Webhook(id));
  health = At(Webhook(id), {"health"});
  EXPECT_GE(At(health, {"consecutive_failures"}).to_number<int64_t>(), 2);
  EXPECT_TRUE(At(health, {"last_failure_at"}).is_string());
  EXPECT_TRUE(At(health, {"last_success_at"}).is_null());
  EXPECT_EQ(At(health, {"success_rate_24h"}).to_number<double>(), 0.0);  // written as JSON.stringify writes it: 0
  // The list shows it too.
  const json::value listed = At(Json(Call("GET", "/api/webhooks", org_key_)), {"webhooks"});
  ASSERT_TRUE(listed.is_array() && listed.as_array().size() == 1u) << json::serialize(listed);
  EXPECT_EQ(At(listed.as_array().at(0), {"health", "state"}), json::value("paused"));

  // Another process (a restart, or another node) reads the stored state: still paused.
  ASSERT_NO_FATAL_FAILURE(Restart({"ULAK_BREAKER_FAILURES=2"}));
  EXPECT_EQ(At(Webhook(id), {"health", "state"}), json::value("paused"));
}

TEST_F(Issue16E2E, RetryAfterAndRedirectsAreRecordedInTheAttemptLog) {
  ASSERT_NO_FATAL_FAILURE(Boot());
  HttpSink sink;
  SinkBehaviour busy = SinkBehaviour::Statuses({429});
  busy.response_headers = {{"Retry-After", "120"}};
  sink.SetBehaviour("/busy", busy);
  SinkBehaviour moved = SinkBehaviour::Statuses({301});
  moved.response_headers = {{"Location", "https://elsewhere.example/hook"}};
  sink.SetBehaviour("/moved", moved);
  CreateWebhook({{"url", sink.Url("/busy")}, {"retry_policy", {{"kind", "fixed"}, {"delays_s", json::array{10}}}}});
  CreateWebhook({{"url", sink.Url("/moved")}, {"retry_policy", {{"kind", "fixed"}, {"delays_s", json::array{10}}}}});
  ASSERT_NO_FATAL_FAILURE(Publish(1));
  json::value logs;
  ASSERT_TRUE(Eventually([&] {
    logs = Logs();
    return At(logs, {"logs"}).is_array() && At(logs, {"logs"}).as_array().size() == 2;
  })) << json::serialize(logs);
  const json::value entries = At(logs, {"logs"});
  for (const json::value& log : entries.as_array()) {
    const std::string error(At(log, {"error_message"}).as_string());
    if (At(log, {"response_status"}) == json::value(429)) {
      EXPECT_NE(error.find("Retry-After: 120 (next try in 120 s)"), std::string::npos) << error;
    } else {
      EXPECT_EQ(At(log, {"response_status"}), json::value(301));
      EXPECT_NE(error.find("redirect is not followed (Location: https://elsewhere.example/hook)"), std::string::npos)
          << error;
    }
  }
  EXPECT_EQ(sink.Count("/busy"), 1u);
}

TEST_F(Issue16E2E, OrganizationRetentionIsSetByTheAdmin) {
  ASSERT_NO_FATAL_FAILURE(Boot());
  const std::string path = "/api/organizations/" + org_id_;
  EXPECT_TRUE(At(Json(Call("GET", path, org_key_)), {"organization", "retention_days"}).is_null());
  ExpectError(Call("PATCH", path, org_key_, R"({"retention_days": 7})"), 403, "forbidden");
  HttpResult set = Call("PATCH", path, kAdminKey, R"({"retention_days": 7})");
  EXPECT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(At(Json(set), {"organization", "retention_days"}), json::value(7));
  EXPECT_EQ(At(Json(Call("GET", path, org_key_)), {"organization", "retention_days"}), json::value(7));
  ExpectError(Call("PATCH", path, kAdminKey, R"({"retention_days": -1})"), 422, "validation_error");
  ExpectError(Call("PATCH", path, kAdminKey, R"({"retention_days": "7"})"), 422, "validation_error");
  ExpectError(Call("PATCH", path, kAdminKey, R"({"name": "x"})"), 422, "validation_error");
  EXPECT_EQ(At(Json(Call("GET", path, org_key_)), {"organization", "retention_days"}), json::value(7));  // unchanged
  HttpResult reset = Call("PATCH", path, kAdminKey, R"({"retention_days": null})");
  EXPECT_EQ(reset.status, 200) << reset.body;
  EXPECT_TRUE(At(Json(reset), {"organization", "retention_days"}).is_null());
  ExpectError(Call("PATCH", "/api/organizations/01890000-0000-7000-8000-000000000000", kAdminKey,
                   R"({"retention_days": 1})"),
              404, "not_found");
}

TEST_F(Issue16E2E, PruneCommandCountsThenDeletesOldFinishedWork) {
  ASSERT_NO_FATAL_FAILURE(Boot());
  HttpSink sink;
  CreateWebhook({{"url", sink.Url("/ok")}});
  for (int n = 1; n <= 3; ++n) ASSERT_NO_FATAL_FAILURE(Publish(n));
  ASSERT_TRUE(sink.WaitForCount("/ok", 3));
  ASSERT_TRUE(Eventually([&] { return At(Logs(), {"stats", "success"}) == json::value(3); }));
  ASSERT_EQ(server_->StopWith(SIGTERM), 0) << server_->Stderr();
  server_.reset();
  std::this_thread::sleep_for(1100ms);  // so that "older than 1s" covers them

  const std::string db = "sqlite:" + DbPath();
  auto [dry_code, dry] = RunUlak({"prune", "--database", db, "--older-than", "1s", "--dry-run"}, {}, dir_.path());
  EXPECT_EQ(dry_code, 0) << dry;
  EXPECT_NE(dry.find("would delete 3 deliveries, 3 attempts, 3 events, 0 incoming requests"), std::string::npos)
      << dry;
  auto [code, out] = RunUlak({"prune", "--database", db, "--older-than", "1s"}, {}, dir_.path());
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("deleted 3 deliveries, 3 attempts, 3 events, 0 incoming requests"), std::string::npos) << out;
  auto [again_code, again] = RunUlak({"prune", "--database", db, "--older-than", "1s"}, {}, dir_.path());
  EXPECT_EQ(again_code, 0) << again;
  EXPECT_NE(again.find("deleted 0 deliveries"), std::string::npos) << again;
  auto [bad_code, bad] = RunUlak({"prune", "--database", db, "--older-than", "soon"}, {}, dir_.path());
  EXPECT_EQ(bad_code, 2) << bad;

  ASSERT_NO_FATAL_FAILURE(Boot());
  EXPECT_EQ(At(Logs(), {"stats", "total"}), json::value(0));
}

}  // namespace
}  // namespace ulak::testing
