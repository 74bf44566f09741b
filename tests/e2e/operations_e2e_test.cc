// End-to-end tests of delivery operations and their security (issue 8, SPEC §2 "Replay", §4,
// §9): the real `ulak serve` binary publishes to a real HTTP sink on 127.0.0.1
// (support/sink.h). Covered: replay (retry one delivery, recover a webhook's failed
// deliveries in a background job, resend an event), secret rotation with a grace period
// (checked with the official `standardwebhooks` npm library, old and new secret),
// auto-disable (N failures over T, and 410 Gone) with the `webhook.disabled` event, the
// per-webhook rate limit, backpressure (429), the monitoring API, the SSRF guard, secrets
// never reaching the server's log, and a table test that one tenant cannot reach another's
// deliveries, events, jobs or monitoring data through any of the new routes.
//
// Each test starts its own server with the environment it is about. Timing: waits poll with
// generous timeouts; the only time bounds asserted are loose behavioural ones named in the
// test (the rate limit's spread, the auto-disable span).
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <signal.h>
#include <time.h>

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include "e2e/server_fixture.h"
#include "support/command.h"
#include "support/independent_crypto.h"
#include "support/sink.h"

#ifndef ULAK_SOURCE_DIR
#error "tests/CMakeLists.txt defines ULAK_SOURCE_DIR for the e2e tests"
#endif
#ifndef ULAK_TEST_NODE_PREFIX
#error "tests/CMakeLists.txt defines ULAK_TEST_NODE_PREFIX for the e2e tests"
#endif

namespace ulak::testing {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

const std::string kCronSecret = "cron-secret-for-operations-tests-0123456789";
const std::string kUnknownId = "01890000-0000-7000-8000-000000000000";

// Signatures are checked with support/independent_crypto.h (OpenSSL, not ulak's own code).

std::string StandardSignature(const std::string& secret_key, const SinkRequest& r) {
  return ::ulak::testing::StandardSignature(secret_key, r.Header("webhook-id"), r.Header("webhook-timestamp"), r.body);
}

// ---- small helpers ----

std::string Str(const json::value& v) { return v.is_string() ? std::string(v.as_string()) : std::string(); }

json::value ParseOrNull(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  return ec ? json::value(nullptr) : v;
}

// A JSON member, or null when v is not an object or lacks it (so a wrong answer fails an
// expectation instead of throwing).
json::value Member(const json::value& v, const char* name) {
  if (!v.is_object()) return nullptr;
  const json::value* m = v.as_object().if_contains(name);
  return m != nullptr ? *m : json::value(nullptr);
}

int64_t Stat(const json::value& logs, const char* name) {
  const json::value v = Member(Member(logs, "stats"), name);
  return v.is_int64() ? v.as_int64() : -1;
}

json::array LogArray(const json::value& logs) {
  const json::value a = Member(logs, "logs");
  return a.is_array() ? a.as_array() : json::array();
}

int64_t Listed(const json::value& logs, const std::string& status) {
  int64_t n = 0;
  for (const auto& log : LogArray(logs)) {
    if (Member(log, "status") == json::value(status)) ++n;
  }
  return n;
}

// Both the listed attempts and the stats show n attempts with this status.
bool Has(const json::value& logs, const std::string& status, int64_t n) {
  return Stat(logs, status.c_str()) == n && Listed(logs, status) == n;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

bool StartsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// RFC 3339 UTC with milliseconds, as the API writes times.
std::string Rfc3339(std::chrono::system_clock::time_point t) {
  const int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

int64_t UnixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// Polls pred every 100 ms until it holds or the timeout passes; returns whether it held.
bool Eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(100ms);
  }
  return true;
}

// The event type of a delivered body ("" if it is not JSON).
std::string EventOf(const SinkRequest& r) { return Str(Member(ParseOrNull(r.body), "event")); }

struct Webhook {
  std::string id;
  std::string secret_key;
  std::string whsec;
  json::object webhook;  // the "webhook" object of the 201 answer
};

class OperationsE2E : public ServerFixture {
 protected:
  // Each test boots its own server (Boot) with the environment it is about.
  void SetUp() override {}

  // Starts the server with the admin key, CRON_SECRET and extra_env, and creates the
  // organization the test works in.
  void Boot(std::vector<std::string> extra_env = {}) {
    std::vector<std::string> env{"ULAK_ADMIN_KEY=" + kAdminKey, "CRON_SECRET=" + kCronSecret};
    env.insert(env.end(), extra_env.begin(), extra_env.end());
    ASSERT_NO_FATAL_FAILURE(Start(std::move(env)));
    std::tie(org_id_, org_key_) = CreateOrg("Kebab House");
    ASSERT_FALSE(org_key_.empty());
  }

  json::object WebhookBody(const std::string& url, json::array events = {"order.created"},
                           const std::string& org = "") const {
    return {{"organization_id", org.empty() ? org_id_ : org}, {"name", "CRM"}, {"url", url},
            {"events", std::move(events)}};
  }

  // Creates a webhook; use with ASSERT_NO_FATAL_FAILURE.
  void CreateWebhook(const json::object& body, Webhook* out, const std::string& key = "") {
    HttpResult r = Call("POST", "/api/webhooks", key.empty() ? org_key_ : key, json::serialize(body));
    ASSERT_EQ(r.status, 201) << r.body;
    json::value v = Json(r);
    ASSERT_TRUE(v.is_object() && v.at("webhook").is_object()) << r.body;
    out->webhook = v.at("webhook").as_object();
    out->id = Str(v.at("webhook").at("id"));
    out->secret_key = Str(v.at("webhook").at("secret_key"));
    out->whsec = Str(v.at("standard_webhooks_secret"));
    ASSERT_TRUE(std::regex_match(out->secret_key, std::regex("[0-9a-f]{64}"))) << r.body;
    ASSERT_EQ(out->whsec, "whsec_" + Base64(HexDecode(out->secret_key)));
  }

  json::object EventBody(const std::string& type, json::object data, const std::string& org = "") const {
    return {{"organization_id", org.empty() ? org_id_ : org}, {"event", type}, {"data", std::move(data)}};
  }

  HttpResult Publish(const json::object& body, const std::string& key = "") {
    return Call("POST", "/api/events", key.empty() ? org_key_ : key, json::serialize(body));
  }

  // Publishes, expects 202 with that many deliveries; returns the event's id (event.id).
  std::string PublishOk(const json::object& body, int64_t expected_deliveries, const std::string& key = "") {
    HttpResult r = Publish(body, key);
    EXPECT_EQ(r.status, 202) << r.body;
    json::value v = Json(r);
    EXPECT_EQ(Member(v, "deliveries"), json::value(expected_deliveries)) << r.body;
    return Str(Member(Member(v, "event"), "id"));
  }

  json::value Logs(const std::string& query = "", const std::string& key = "", const std::string& org = "") {
    HttpResult r = Call("GET", "/api/webhooks/logs?organization_id=" + (org.empty() ? org_id_ : org) + query,
                        key.empty() ? org_key_ : key);
    EXPECT_EQ(r.status, 200) << r.body;
    return Json(r);
  }

  // Polls the logs until pred holds (or the timeout passes); returns the last answer.
  json::value WaitForLogs(const std::string& query, const std::function<bool(const json::value&)>& pred,
                          const std::string& key = "", const std::string& org = "") {
    json::value v;
    const bool ok = Eventually([&] {
      v = Logs(query, key, org);
      return pred(v);
    });
    EXPECT_TRUE(ok) << "logs never matched; last answer: " << json::serialize(v);
    return v;
  }

  // The delivery ids of a webhook's attempts with this status, oldest first.
  std::vector<std::string> DeliveryIds(const json::value& logs, const std::string& status) {
    std::vector<std::string> ids;
    for (const auto& log : LogArray(logs)) {
      if (Member(log, "status") == json::value(status)) ids.push_back(Str(Member(log, "delivery_id")));
    }
    std::reverse(ids.begin(), ids.end());
    return ids;
  }

  json::value GetDelivery(const std::string& id, const std::string& key = "") {
    HttpResult r = Call("GET", "/api/deliveries/" + id, key.empty() ? org_key_ : key);
    EXPECT_EQ(r.status, 200) << r.body;
    return Member(Json(r), "delivery");
  }

  // Polls GET /api/deliveries/{id} until it shows status and attempts.
  json::value WaitForDelivery(const std::string& id, const std::string& status, int64_t attempts,
                              const std::string& key = "") {
    json::value d;
    const bool ok = Eventually([&] {
      d = GetDelivery(id, key);
      return Member(d, "status") == json::value(status) && Member(d, "attempts") == json::value(attempts);
    });
    EXPECT_TRUE(ok) << "delivery " << id << " never reached " << status << "/" << attempts << ": "
                    << json::serialize(d);
    return d;
  }

  // Polls GET /api/jobs/{id} until the job is no longer running; returns it.
  json::value WaitForJob(const std::string& id, const std::string& key = "") {
    json::value job;
    const bool ok = Eventually([&] {
      HttpResult r = Call("GET", "/api/jobs/" + id, key.empty() ? org_key_ : key);
      EXPECT_EQ(r.status, 200) << r.body;
      job = Member(Json(r), "job");
      return Member(job, "status") != json::value("running");
    });
    EXPECT_TRUE(ok) << "job " << id << " is still running: " << json::serialize(job);
    return job;
  }

  json::value GetWebhook(const std::string& id, const std::string& key = "") {
    HttpResult r = Call("GET", "/api/webhooks/" + id, key.empty() ? org_key_ : key);
    EXPECT_EQ(r.status, 200) << r.body;
    return Member(Json(r), "webhook");
  }

  // Starts a recover job and expects 202 with a running job; returns the job id.
  std::string StartRecover(const std::string& webhook_id, const std::string& since, const std::string& key = "") {
    HttpResult r = Call("POST", "/api/webhooks/" + webhook_id + "/recover", key.empty() ? org_key_ : key,
                        json::serialize(json::object{{"since", since}}));
    EXPECT_EQ(r.status, 202) << r.body;
    const json::value job = Member(Json(r), "job");
    EXPECT_EQ(Member(job, "status"), "running") << r.body;
    EXPECT_EQ(Member(job, "kind"), "recover") << r.body;
    EXPECT_EQ(Member(Member(job, "params"), "webhook_config_id"), json::value(webhook_id)) << r.body;
    return Str(Member(job, "id"));
  }

  std::string WriteScratch(const std::string& name, const std::string& content) {
    const std::string path = dir_.path() + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  static std::string SourcePath(const std::string& relative) { return std::string(ULAK_SOURCE_DIR) + "/" + relative; }

  std::string org_id_;
  std::string org_key_;
  HttpSink sink_;
};

// ---------------------------------------------------------------------------------------
// Replay: POST /api/deliveries/{id}/retry and GET /api/deliveries/{id}.
// A failed delivery is sent again now under the same webhook-id; a finished one can be sent
// again; one still scheduled or being sent is a 409 conflict.
TEST_F(OperationsE2E, RetryResendsAFinishedDeliveryWithTheSameWebhookId) {
  ASSERT_NO_FATAL_FAILURE(Boot());
  sink_.SetBehaviour("/replay", SinkBehaviour::Statuses({500, 200}));
  Webhook w;
  json::object body = WebhookBody(sink_.Url("/replay"));
  body["retry_enabled"] = false;
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(body, &w));
  json::object event = EventBody("order.created", {{"order_id", "ORD-R1"}});
  event["event_id"] = "ORD-R1";
  const std::string event_id = PublishOk(event, 1);

  json::value logs = WaitForLogs("&webhook_config_id=" + w.id, [](const json::value& v) { return Has(v, "failed", 1); });
  const std::string delivery_id = Str(Member(LogArray(logs).at(0), "delivery_id"));
  ASSERT_FALSE(delivery_id.empty()) << json::serialize(logs);

  json::value d = WaitForDelivery(delivery_id, "failed", 1);
  EXPECT_EQ(Member(d, "id"), json::value(delivery_id));
  EXPECT_EQ(Member(d, "event_id"), json::value(event_id));
  EXPECT_EQ(Member(d, "webhook_config_id"), json::value(w.id));
  EXPECT_EQ(Member(d, "organization_id"), json::value(org_id_));

  // Retry the failed delivery: 202 with the delivery, pending again.
  HttpResult r = Call("POST", "/api/deliveries/" + delivery_id + "/retry", org_key_);
  ASSERT_EQ(r.status, 202) << r.body;
  const json::value retried = Member(Json(r), "delivery");
  EXPECT_EQ(Member(retried, "id"), json::value(delivery_id)) << r.body;
  EXPECT_EQ(Member(retried, "status"), "pending") << r.body;
  EXPECT_EQ(Member(retried, "webhook_config_id"), json::value(w.id)) << r.body;

  ASSERT_TRUE(sink_.WaitForCount("/replay", 2));
  std::vector<SinkRequest> reqs = sink_.Requests("/replay");
  EXPECT_EQ(reqs[1].Header("webhook-id"), delivery_id);
  EXPECT_EQ(reqs[0].Header("webhook-id"), delivery_id);
  EXPECT_EQ(reqs[1].body, reqs[0].body);
  EXPECT_EQ(reqs[1].Header("X-Webhook-Signature"), SeedSignature(w.secret_key, reqs[1].body));
  EXPECT_EQ(reqs[1].Header("webhook-signature"), StandardSignature(w.secret_key, reqs[1]));
  logs = WaitForLogs("&webhook_config_id=" + w.id, [](const json::value& v) { return Has(v, "success", 1); });
  EXPECT_EQ(Member(LogArray(logs).at(0), "attempt_number"), 2) << json::serialize(logs);
  EXPECT_EQ(Member(LogArray(logs).at(0), "delivery_id"), json::value(delivery_id));
  WaitForDelivery(delivery_id, "success", 2);

  // A successful delivery can be sent again too. While it is being sent (the sink takes
  // 1.5 s to answer) a second retry is a conflict, not a second send.
  sink_.SetBehaviour("/replay", SinkBehaviour::Delayed(1500ms));
  HttpResult again = Call("POST", "/api/deliveries/" + delivery_id + "/retry", org_key_);
  ASSERT_EQ(again.status, 202) << again.body;
  ExpectError(Call("POST", "/api/deliveries/" + delivery_id + "/retry", org_key_), 409, "conflict");
  WaitForDelivery(delivery_id, "success", 3);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(sink_.Count("/replay"), 3u) << "the conflicting retry was sent anyway";
  EXPECT_EQ(sink_.Requests("/replay").at(2).Header("webhook-id"), delivery_id);

  // A delivery waiting for its retry (60 s away) is a conflict too, and is not sent.
  sink_.SetBehaviour("/later", SinkBehaviour::Statuses({500}));
  Webhook later;
  json::object later_body = WebhookBody(sink_.Url("/later"));
  later_body["retry_policy"] = json::object{{"kind", "custom"}, {"delays_s", json::array{60}}};
  later_body["max_retries"] = 1;
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(later_body, &later));
  PublishOk(EventBody("order.created", {{"order_id", "ORD-R2"}}), 2);
  logs = WaitForLogs("&webhook_config_id=" + later.id, [](const json::value& v) { return Has(v, "retrying", 1); });
  const std::string waiting_id = Str(Member(LogArray(logs).at(0), "delivery_id"));
  EXPECT_EQ(Member(GetDelivery(waiting_id), "status"), "retrying");
  ExpectError(Call("POST", "/api/deliveries/" + waiting_id + "/retry", org_key_), 409, "conflict");
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(sink_.Count("/later"), 1u);

  ExpectError(Call("GET", "/api/deliveries/" + kUnknownId, org_key_), 404, "not_found");
  ExpectError(Call("POST", "/api/deliveries/" + kUnknownId + "/retry", org_key_), 404, "not_found");
  ExpectError(Call("GET", "/api/deliveries/" + delivery_id, ""), 401, "unauthorized");
}

// Four retries of one failed delivery at the same moment: one 202, three 409s, one send.
// (The status check and the requeue once raced: two were accepted and the delivery was sent
// twice, both attempts numbered 2.)
TEST_F(OperationsE2E, ConcurrentRetriesOfOneDeliverySendItOnce) {
  ASSERT_NO_FATAL_FAILURE(Boot());
  sink_.SetBehaviour("/race", SinkBehaviour::Statuses({500}));
  Webhook w;
  json::object body = WebhookBody(sink_.Url("/race"));
  body["retry_enabled"] = false;
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(body, &w));
  PublishOk(EventBody("order.created", {{"order_id", "ORD-RACE"}}), 1);
  json::value logs = WaitForLogs("&webhook_config_id=" + w.id, [](const json::value& v) { return Has(v, "failed", 1); });
  const std::string id = DeliveryIds(logs, "failed").at(0);
  WaitForDelivery(id, "failed", 1);
  sink_.SetBehaviour("/race", SinkBehaviour::Delayed(300ms));

  std::vector<HttpResult> results(4);
  std::vector<std::thread> threads;
  for (auto& r : results) threads.emplace_back([&, id] { r = Call("POST", "/api/deliveries/" + id + "/retry", org_key_); });
  for (auto& t : threads) t.join();
  int accepted = 0;
  for (const auto& r : results) {
    if (r.status == 202) {
      ++accepted;
    } else {
      ExpectError(r, 409, "conflict");
    }
  }
  EXPECT_EQ(accepted, 1);
  logs = WaitForLogs("&webhook_config_id=" + w.id, [](const json::value& v) { return Stat(v, "success") >= 1; });
  std::this_thread::sleep_for(800ms);
  EXPECT_EQ(sink_.Count("/race"), 2u) << "the delivery was re-sent more than once";
  logs = Logs("&webhook_config_id=" + w.id);
  std::multiset<int64_t> numbers;
  for (const auto& log : LogArray(logs)) numbers.insert(Member(log, "attempt_number").as_int64());
  EXPECT_EQ(numbers, (std::multiset<int64_t>{1, 2})) << json::serialize(logs);
}

// Replay: POST /api/webhooks/{id}/recover {since} runs in the background (GET /api/jobs/{id})
// and re-sends exactly the webhook's failed deliveries whose last change is at/after since.
TEST_F(OperationsE2E, RecoverResendsFailedDeliveriesSinceATimeInABackgroundJob) {
  ASSERT_NO_FATAL_FAILURE(Boot());
  // The first three requests fail (one before `since`, two after); later ones succeed.
  sink_.SetBehaviour("/rec", SinkBehaviour::Statuses({500, 500, 500, 200}));
  Webhook w;
  json::object body = WebhookBody(sink_.Url("/rec"));
  body["retry_enabled"] = false;
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(body, &w));

  PublishOk(EventBody("order.created", {{"order_id", "ORD-X"}}), 1);
  json::value logs = WaitForLogs("&webhook_config_id=" + w.id, [](const json::value& v) { return Has(v, "failed", 1); });
  const std::string early = Str(Member(LogArray(logs).at(0), "delivery_id"));
  WaitForDelivery(early, "failed", 1);
  std::this_thread::sleep_for(50ms);
  const std::string since = Rfc3339(std::chrono::system_clock::now());
  std::this_thread::sleep_for(50ms);
  PublishOk(EventBody("order.created", {{"order_id", "ORD-Y"}}), 1);
  PublishOk(EventBody("order.created", {{"order_id", "ORD-Z"}}), 1);
  logs = WaitForLogs("&webhook_config_id=" + w.id, [](const json::value& v) { return Has(v, "failed", 3); });
  std::set<std::string> later;
  for (const std::string& id : DeliveryIds(logs, "failed")) {
    if (id != early) later.insert(id);
  }
  ASSERT_EQ(later.size(), 2u) << json::serialize(logs);
  for (const std::string& id : later) WaitForDelivery(id, "failed", 1);
  ASSERT_EQ(sink_.Count("/rec"), 3u);

  // Bad input first: nothing starts.
  ExpectError(Call("POST", "/api/webhooks/" + w.id + "/recover", org_key_, R"({"since":"last tuesday"})"), 422,
              "validation_error");
  ExpectError(Call("POST", "/api/webhooks/" + w.id + "/recover", org_key_, "{}"), 422, "validation_error");
  ExpectError(Call("POST", "/api/webhooks/" + w.id + "/recover", org_key_, "{\"since\":"), 400, "invalid_json");
  ExpectError(Call("POST", "/api/webhooks/" + kUnknownId + "/recover", org_key_, R"({"since":"0"})"), 404,
              "not_found");

  // RFC 3339 since: the two later failures are re-sent, the early one is not.
  const std::string job_id = StartRecover(w.id, since);
  ASSERT_FALSE(job_id.empty());
  json::value job = WaitForJob(job_id);
  EXPECT_EQ(Member(job, "id"), json::value(job_id));
  EXPECT_EQ(Member(job, "status"), "completed") << json::serialize(job);
  EXPECT_EQ(Member(job, "total"), 2) << json::serialize(job);
  EXPECT_EQ(Member(job, "done"), 2) << json::serialize(job);
  EXPECT_TRUE(Member(job, "error").is_null()) << json::serialize(job);
  EXPECT_EQ(Member(job, "organization_id"), json::value(org_id_));
  ASSERT_TRUE(sink_.WaitForCount("/rec", 5));
  std::set<std::string> resent;
  for (size_t i = 3; i < 5; ++i) resent.insert(sink_.Requests("/rec").at(i).Header("webhook-id"));
  EXPECT_EQ(resent, later);
  for (const std::string& id : later) WaitForDelivery(id, "success", 2);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(sink_.Count("/rec"), 5u) << "the failure before `since` was re-sent";
  EXPECT_EQ(Member(GetDelivery(early), "status"), "failed");

  // Unix-seconds since an hour ago: only the early failure is left to re-send.
  const std::string job2 =
      StartRecover(w.id, std::to_string(UnixSeconds(std::chrono::system_clock::now() - 1h)));
  job = WaitForJob(job2);
  EXPECT_EQ(Member(job, "status"), "completed") << json::serialize(job);
  EXPECT_EQ(Member(job, "total"), 1) << json::serialize(job);
  EXPECT_EQ(Member(job, "done"), 1) << json::serialize(job);
  ASSERT_TRUE(sink_.WaitForCount("/rec", 6));
  EXPECT_EQ(sink_.Requests("/rec").at(5).Header("webhook-id"), early);
  WaitForDelivery(early, "success", 2);

  // Nothing failed any more: the job completes with nothing to do.
  job = WaitForJob(StartRecover(w.id, "0"));
  EXPECT_EQ(Member(job, "status"), "completed") << json::serialize(job);
  EXPECT_EQ(Member(job, "total"), 0) << json::serialize(job);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(sink_.Count("/rec"), 6u);

  ExpectError(Call("GET", "/api/jobs/" + kUnknownId, org_key_), 404, "not_found");
}

// Replay: POST /api/events/{id}/resend {webhook_config_id} makes a new delivery of the stored
// event (same body, new webhook-id), e.g. to a webhook created after the event.
TEST_F(OperationsE2E, ResendDeliversAStoredEventToAWebhookUnderANewWebhookId) {
  ASSERT_NO_FATAL_FAILURE(Boot());
  Webhook original;
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(WebhookBody(sink_.Url("/orig")), &original));
  json::object event = EventBody("order.created", {{"order_id", "ORD-RS"}, {"customer", "Şükrü"}});
  event["event_id"] = "ORD-RS";
  const std::string event_id = PublishOk(event, 1);
  ASSERT_FALSE(event_id.empty());
  ASSERT_TRUE(sink_.WaitForCount("/orig", 1));
  const SinkRequest first = sink_.Requests("/orig").at(0);

  Webhook late;
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(WebhookBody(sink_.Url("/late")), &late));
  HttpResult r = Call("POST", "/api/events/" + event_id + "/resend", org_key_,
                      json::serialize(json::object{{"webhook_config_id", late.id}}));
  ASSERT_EQ(r.status, 202) << r.body;
  const json::value d = Member(Json(r), "delivery");
  const std::string new_id = Str(Member(d, "id"));
  EXPECT_FALSE(new_id.empty()) << r.body;
  EXPECT_NE(new_id, first.Header("webhook-id"));
  EXPECT_EQ(Member(d, "event_id"), json::value(event_id)) << r.body;
  EXPECT_EQ(Member(d, "webhook_config_id"), json::value(late.id)) << r.body;
  EXPECT_EQ(Member(d, "organization_id"), json::value(org_id_)) << r.body;

  ASSERT_TRUE(sink_.WaitForCount("/late", 1));
  const SinkRequest sent = sink_.Requests("/late").at(0);
  EXPECT_EQ(sent.body, first.body) << "the stored event's body, byte for byte";
  EXPECT_EQ(sent.Header("webhook-id"), new_id);
  EXPECT_EQ(sent.Header("X-Webhook-Signature"), SeedSignature(late.secret_key, sent.body));
  EXPECT_EQ(sent.Header("webhook-signature"), StandardSignature(late.secret_key, sent));
  json::value logs = WaitForLogs("&webhook_config_id=" + late.id, [](const json::value& v) { return Has(v, "success", 1); });
  EXPECT_EQ(Member(LogArray(logs).at(0), "delivery_id"), json::value(new_id));
  EXPECT_EQ(Member(LogArray(logs).at(0), "event_id"), "ORD-RS");
  WaitForDelivery(new_id, "success", 1);

  // Resending to the original webhook is a new delivery as well, not the first one again.
  HttpResult again = Call("POST", "/api/events/" + event_id + "/resend", org_key_,
                          json::serialize(json::object{{"webhook_config_id", original.id}}));
  ASSERT_EQ(again.status, 202) << again.body;
  const std::string again_id = Str(Member(Member(Json(again), "delivery"), "id"));
  EXPECT_NE(again_id, first.Header("webhook-id"));
  EXPECT_NE(again_id, new_id);
  ASSERT_TRUE(sink_.WaitForCount("/orig", 2));
  EXPECT_EQ(sink_.Requests("/orig").at(1).Header("webhook-id"), again_id);
  EXPECT_EQ(sink_.Requests("/orig").at(1).body, first.body);

  // Errors: missing webhook, unknown event or webhook, a deactivated webhook.
  ExpectError(Call("POST", "/api/events/" + event_id + "/resend", org_key_, "{}"), 422, "validation_error");
  ExpectError(Call("POST", "/api/events/" + kUnknownId + "/resend", org_key_,
                   json::serialize(json::object{{"webhook_config_id", late.id}})),
              404, "not_found");
  ExpectError(Call("POST", "/api/events/" + event_id + "/resend", org_key_,
                   json::serialize(json::object{{"webhook_config_id", kUnknownId}})),
              404, "not_found");
  ASSERT_EQ(Call("PATCH", "/api/webhooks/" + late.id, org_key_, R"({"is_active":false})").status, 200);
  ExpectError(Call("POST", "/api/events/" + event_id + "/resend", org_key_,
                   json::serialize(json::object{{"webhook_config_id", late.id}})),
              409, "conflict");
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(sink_.Count("/late"), 1u);
}

// The admin key reaches every organization's deliveries, events and jobs through the replay
// routes.
TEST_F(OperationsE2E, AdminKeyCanReplayAnyOrganizationsDeliveriesAndEvents) {
  ASSERT_NO_FATAL_FAILURE(Boot());
  Webhook w;
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(WebhookBody(sink_.Url("/admin")), &w));
  const std::string event_id = PublishOk(EventBody("order.created", {{"order_id", "ORD-AD"}}), 1);
  json::value logs = WaitForLogs("&webhook_config_id=" + w.id, [](const json::value& v) { return Has(v, "success", 1); });
  const std::string delivery_id = Str(Member(LogArray(logs).at(0), "delivery_id"));
  WaitForDelivery(delivery_id, "success", 1);

  EXPECT_EQ(Member(GetDelivery(delivery_id, kAdminKey), "id"), json::value(delivery_id));
  HttpResult retry = Call("POST", "/api/deliveries/" + delivery_id + "/retry", kAdminKey);
  EXPECT_EQ(retry.status, 202) << retry.body;
  EXPECT_TRUE(sink_.WaitForCount("/admin", 2));
  const std::string job = StartRecover(w.id, "0", kAdminKey);
  EXPECT_EQ(Member(WaitForJob(job, kAdminKey), "status"), "completed");
  EXPECT_EQ(Member(WaitForJob(job), "id"), json::value(job)) << "the organization sees the admin's job on its webhook";
  // (An empty admin scope once reached the store as organization_id = '' and answered 404.)
  HttpResult resend = Call("POST", "/api/events/" + event_id + "/resend", kAdminKey,
                           json::serialize(json::object{{"webhook_config_id", w.id}}));
  ASSERT_EQ(resend.status, 202) << resend.body;
  EXPECT_EQ(Member(Member(Json(resend), "delivery"), "event_id"), json::value(event_id)) << resend.body;
  EXPECT_TRUE(sink_.WaitForCount("/admin", 3));
}

// ---------------------------------------------------------------------------------------
// Secret rotation with a grace period: deliveries carry X-Webhook-Signature with the new
// secret and `webhook-signature: v1,<new> v1,<old>`; the official standardwebhooks library
// accepts them with the old and with the new whsec. Needs npm (see tests/CMakeLists.txt).
TEST_F(OperationsE2E, RotationGracePeriodSignsWithBothSecretsAndStandardLibraryAcceptsEither) {
  CommandResult install = RunCommand({"bash", SourcePath("scripts/install-test-node-deps.sh"), ULAK_TEST_NODE_PREFIX},
                                     {}, dir_.path(), 300s);
  ASSERT_EQ(install.exit_code, 0) << "installing the npm package standardwebhooks failed:\n" << install.output;
  ASSERT_NO_FATAL_FAILURE(Boot());
  Webhook w;
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(WebhookBody(sink_.Url("/rot")), &w));
  EXPECT_TRUE(Member(json::value(w.webhook), "previous_secret_expires_at").is_null());

  ExpectError(Call("PATCH", "/api/webhooks/" + w.id, org_key_, R"({"grace_period_s":3600})"), 422, "validation_error");
  const auto asked = std::chrono::system_clock::now();
  HttpResult rotated =
      Call("PATCH", "/api/webhooks/" + w.id, org_key_, R"({"regenerate_secret":true,"grace_period_s":86400})");
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  const json::value v = Json(rotated);
  const std::string new_key = Str(Member(Member(v, "webhook"), "secret_key"));
  const std::string new_whsec = Str(Member(v, "standard_webhooks_secret"));
  ASSERT_TRUE(std::regex_match(new_key, std::regex("[0-9a-f]{64}"))) << rotated.body;
  EXPECT_NE(new_key, w.secret_key);
  EXPECT_EQ(new_whsec, "whsec_" + Base64(HexDecode(new_key)));
  EXPECT_EQ(Member(Member(v, "webhook"), "standard_webhooks_secret"), json::value(new_whsec));
  EXPECT_FALSE(Contains(rotated.body, w.secret_key)) << "the old secret is shown again";
  // The old secret stays valid for the grace period: about a day from now.
  const std::string expires = Str(Member(Member(v, "webhook"), "previous_secret_expires_at"));
  ASSERT_GE(expires.size(), 19u) << rotated.body;
  EXPECT_GE(expires.substr(0, 19), Rfc3339(asked + 86400s - 60s).substr(0, 19)) << expires;
  EXPECT_LE(expires.substr(0, 19), Rfc3339(asked + 86400s + 60s).substr(0, 19)) << expires;
  EXPECT_FALSE(Contains(Call("GET", "/api/webhooks/" + w.id, org_key_).body, new_key));

  PublishOk(EventBody("order.created", {{"order_id", "ORD-ROT"}, {"note", "Acılı — 2×"}}), 1);
  ASSERT_TRUE(sink_.WaitForCount("/rot", 1));
  const SinkRequest r = sink_.Requests("/rot").at(0);
  EXPECT_EQ(r.Header("X-Webhook-Signature"), SeedSignature(new_key, r.body));
  EXPECT_EQ(r.Header("webhook-signature"), StandardSignature(new_key, r) + " " + StandardSignature(w.secret_key, r));

  const std::string js = SourcePath("tests/e2e/verify_standard.js");
  const std::vector<std::string> env = {"NODE_PATH=" + std::string(ULAK_TEST_NODE_PREFIX) + "/node_modules"};
  const std::string body_path = WriteScratch("rot.json", r.body);
  auto verify = [&](const std::string& whsec) {
    return RunCommand({"node", js, body_path, whsec, r.Header("webhook-id"), r.Header("webhook-timestamp"),
                       r.Header("webhook-signature")},
                      env, dir_.path());
  };
  CommandResult with_old = verify(w.whsec);
  EXPECT_EQ(with_old.exit_code, 0) << "old secret: " << with_old.output;
  CommandResult with_new = verify(new_whsec);
  EXPECT_EQ(with_new.exit_code, 0) << "new secret: " << with_new.output;
  CommandResult with_other = verify("whsec_" + Base64(std::string(32, '\x07')));
  EXPECT_EQ(with_other.exit_code, 1) << "an unrelated secret: " << with_other.output;

  // The grace survives a restart, and neither secret is on disk in clear meanwhile.
  ASSERT_EQ(server_->StopWith(SIGTERM), 0) << server_->Stderr();
  std::string raw;
  for (const char* suffix : {"", "-wal", "-journal"}) {
    std::ifstream in(DbPath() + suffix, std::ios::binary);
    raw.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  ASSERT_TRUE(Contains(raw, sink_.Url("/rot"))) << "the database was read at all";
  EXPECT_FALSE(Contains(raw, w.secret_key)) << "the previous secret is on disk in clear";
  EXPECT_FALSE(Contains(raw, new_key)) << "the new secret is on disk in clear";
  ASSERT_NO_FATAL_FAILURE(Start({"ULAK_ADMIN_KEY=" + kAdminKey, "CRON_SECRET=" + kCronSecret}));
  PublishOk(EventBody("order.created", {{"order_id", "ORD-ROT-RESTART"}}), 1);
  ASSERT_TRUE(sink_.WaitForCount("/rot", 2));
  const SinkRequest after_restart = sink_.Requests("/rot").at(1);
  EXPECT_EQ(after_restart.Header("webhook-signature"),
            StandardSignature(new_key, after_restart) + " " + StandardSignature(w.secret_key, after_restart));

  // Rotating again without a grace period drops every older secret: one signature.
  HttpResult again = Call("PATCH", "/api/webhooks/" + w.id, org_key_, R"({"regenerate_secret":true})");
  ASSERT_EQ(again.status, 200) << again.body;
  const std::string third_key = Str(Member(Member(Json(again), "webhook"), "secret_key"));
  const std::string third_whsec = Str(Member(Json(again), "standard_webhooks_secret"));
  EXPECT_TRUE(Member(Member(Json(again), "webhook"), "previous_secret_expires_at").is_null()) << again.body;
  PublishOk(EventBody("order.created", {{"order_id", "ORD-ROT2"}}), 1);
  ASSERT_TRUE(sink_.WaitForCount("/rot", 3));
  const SinkRequest r2 = sink_.Requests("/rot").at(2);
  EXPECT_EQ(r2.Header("X-Webhook-Signature"), SeedSignature(third_key, r2.body));
  EXPECT_EQ(r2.Header("webhook-signature"), StandardSignature(third_key, r2));
  const std::string body2 = WriteScratch("rot2.json", r2.body);
  CommandResult ok2 = RunCommand({"node", js, body2, third_whsec, r2.Header("webhook-id"),
                                  r2.Header("webhook-timestamp"), r2.Header("webhook-signature")},
                                 env, dir_.path());
  EXPECT_EQ(ok2.exit_code, 0) << ok2.output;
  CommandResult stale = RunCommand({"node", js, body2, new_whsec, r2.Header("webhook-id"),
                                    r2.Header("webhook-timestamp"), r2.Header("webhook-signature")},
                                   env, dir_.path());
  EXPECT_EQ(stale.exit_code, 1) << "the second secret, replaced without grace, still verifies: " << stale.output;
}

// ---------------------------------------------------------------------------------------
// Auto-disable: N=2 consecutive failed deliveries spanning at least T=1 s disable the
// webhook; the organization's other subscribers get `webhook.disabled`, the disabled webhook
// does not; PATCH is_active:true re-enables it with a fresh streak.
TEST_F(OperationsE2E, ConsecutiveFailuresOverTheSpanDisableTheWebhookAndNotifyOthers) {
  ASSERT_NO_FATAL_FAILURE(Boot({"ULAK_AUTO_DISABLE_FAILURES=2", "ULAK_AUTO_DISABLE_AFTER_S=1"}));
  sink_.SetBehaviour("/failing", SinkBehaviour::Statuses({500}));
  Webhook failing, observer;
  json::object body = WebhookBody(sink_.Url("/failing"), {"*"});  // would match webhook.disabled too
  body["name"] = "Failing CRM";
  body["retry_enabled"] = false;
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(body, &failing));
  json::object observer_body = WebhookBody(sink_.Url("/observer"), {"webhook.*"});
  observer_body["name"] = "Ops";
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(observer_body, &observer));

  // Two failures within a second: N is reached but not T, so the webhook stays active.
  const auto first_publish = std::chrono::steady_clock::now();
  PublishOk(EventBody("order.created", {{"n", 1}}), 1);
  WaitForLogs("&webhook_config_id=" + failing.id, [](const json::value& v) { return Has(v, "failed", 1); });
  PublishOk(EventBody("order.created", {{"n", 2}}), 1);
  json::value logs =
      WaitForLogs("&webhook_config_id=" + failing.id, [](const json::value& v) { return Has(v, "failed", 2); });
  const std::string a_failed_delivery = Str(Member(LogArray(logs).at(0), "delivery_id"));
  const auto two_failed = std::chrono::steady_clock::now() - first_publish;
  if (two_failed < 800ms) {
    EXPECT_EQ(Member(GetWebhook(failing.id), "is_active"), true) << "disabled before the 1 s span passed";
  } else {
    std::cout << "[ note     ] two failures took "
              << std::chrono::duration_cast<std::chrono::milliseconds>(two_failed).count()
              << " ms; the span check is skipped" << std::endl;
  }

  // A third failure more than T after the first: disabled.
  std::this_thread::sleep_until(first_publish + 1300ms);
  PublishOk(EventBody("order.created", {{"n", 3}}), 1);
  json::value disabled;
  EXPECT_TRUE(Eventually([&] {
    disabled = GetWebhook(failing.id);
    return Member(disabled, "is_active") == json::value(false);
  })) << json::serialize(disabled);
  const std::string reason = Str(Member(disabled, "disabled_reason"));
  EXPECT_FALSE(reason.empty()) << json::serialize(disabled);
  EXPECT_TRUE(Member(disabled, "disabled_at").is_string()) << json::serialize(disabled);

  // The observer gets webhook.disabled, signed with its own secret.
  ASSERT_TRUE(sink_.WaitForCount("/observer", 1));
  const SinkRequest note = sink_.Requests("/observer").at(0);
  EXPECT_EQ(note.Header("X-Webhook-Signature"), SeedSignature(observer.secret_key, note.body));
  const json::value sent = ParseOrNull(note.body);
  EXPECT_EQ(Member(sent, "event"), "webhook.disabled") << note.body;
  EXPECT_EQ(Member(sent, "organization_id"), json::value(org_id_)) << note.body;
  const json::value data = Member(sent, "data");
  EXPECT_EQ(Member(data, "webhook_config_id"), json::value(failing.id)) << note.body;
  EXPECT_EQ(Member(data, "name"), "Failing CRM") << note.body;
  EXPECT_EQ(Member(data, "url"), json::value(sink_.Url("/failing"))) << note.body;
  EXPECT_EQ(Member(data, "disabled_reason"), json::value(reason)) << note.body;
  EXPECT_EQ(Member(data, "disabled_at"), Member(disabled, "disabled_at")) << note.body;
  // ... and the disabled webhook never does.
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(sink_.Count("/observer"), 1u);
  for (const SinkRequest& r : sink_.Requests("/failing")) EXPECT_NE(EventOf(r), "webhook.disabled") << r.body;
  EXPECT_EQ(sink_.Count("/failing"), 3u);

  // Disabled: new events skip it; replay is refused until it is enabled again.
  PublishOk(EventBody("order.created", {{"n", 4}}), 0);
  ExpectError(Call("POST", "/api/deliveries/" + a_failed_delivery + "/retry", org_key_), 409, "conflict");
  ExpectError(Call("POST", "/api/webhooks/" + failing.id + "/recover", org_key_, R"({"since":"0"})"), 409, "conflict");

  // Re-enabled: the reason is cleared and the old streak no longer counts, so one more
  // failure (over a span well past T) does not disable it again.
  HttpResult enabled = Call("PATCH", "/api/webhooks/" + failing.id, org_key_, R"({"is_active":true})");
  ASSERT_EQ(enabled.status, 200) << enabled.body;
  const json::value e = Member(Json(enabled), "webhook");
  EXPECT_EQ(Member(e, "is_active"), true) << enabled.body;
  EXPECT_TRUE(Member(e, "disabled_reason").is_null()) << enabled.body;
  EXPECT_TRUE(Member(e, "disabled_at").is_null()) << enabled.body;
  PublishOk(EventBody("order.created", {{"n", 5}}), 1);
  WaitForLogs("&webhook_config_id=" + failing.id, [](const json::value& v) { return Has(v, "failed", 4); });
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(Member(GetWebhook(failing.id), "is_active"), true) << "one failure after re-enabling disabled it again";
  EXPECT_EQ(sink_.Count("/observer"), 1u);
}

// A 410 Gone disables a webhook at once when it opted in (disable_on_gone), without retries;
// one that did not opt in just records a failed attempt.
TEST_F(OperationsE2E, GoneAnswerDisablesAnOptedInWebhookAtOnce) {
  ASSERT_NO_FATAL_FAILURE(Boot());
  sink_.SetBehaviour("/gone", SinkBehaviour::Statuses({410}));
  sink_.SetBehaviour("/gone-kept", SinkBehaviour::Statuses({410}));
  Webhook gone, kept, observer;
  json::object body = WebhookBody(sink_.Url("/gone"));
  body["name"] = "Old CRM";
  body["disable_on_gone"] = true;
  body["retry_policy"] = json::object{{"kind", "custom"}, {"delays_s", json::array{1}}};
  body["max_retries"] = 3;
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(body, &gone));
  EXPECT_EQ(gone.webhook.at("disable_on_gone"), true);
  json::object kept_body = WebhookBody(sink_.Url("/gone-kept"));
  kept_body["retry_enabled"] = false;
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(kept_body, &kept));
  EXPECT_EQ(kept.webhook.at("disable_on_gone"), false);
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(WebhookBody(sink_.Url("/observer"), {"webhook.disabled"}), &observer));

  PublishOk(EventBody("order.created", {{"order_id", "ORD-410"}}), 2);
  json::value w;
  EXPECT_TRUE(Eventually([&] {
    w = GetWebhook(gone.id);
    return Member(w, "is_active") == json::value(false);
  })) << json::serialize(w);
  EXPECT_TRUE(Contains(Str(Member(w, "disabled_reason")), "410")) << json::serialize(w);
  EXPECT_TRUE(Member(w, "disabled_at").is_string());
  json::value logs = WaitForLogs("&webhook_config_id=" + gone.id, [](const json::value& v) { return Has(v, "failed", 1); });
  EXPECT_EQ(Member(LogArray(logs).at(0), "response_status"), 410);
  EXPECT_TRUE(Member(LogArray(logs).at(0), "next_retry_at").is_null());
  WaitForLogs("&webhook_config_id=" + kept.id, [](const json::value& v) { return Has(v, "failed", 1); });

  ASSERT_TRUE(sink_.WaitForCount("/observer", 1));
  const json::value note = ParseOrNull(sink_.Requests("/observer").at(0).body);
  EXPECT_EQ(Member(note, "event"), "webhook.disabled");
  EXPECT_EQ(Member(Member(note, "data"), "webhook_config_id"), json::value(gone.id));
  EXPECT_EQ(Member(Member(note, "data"), "name"), "Old CRM");

  std::this_thread::sleep_for(1500ms);  // past the 1 s retry delay: no retry came
  EXPECT_EQ(sink_.Count("/gone"), 1u);
  EXPECT_EQ(sink_.Count("/observer"), 1u) << "only the opted-in webhook was disabled";
  EXPECT_EQ(Member(GetWebhook(kept.id), "is_active"), true);
  EXPECT_TRUE(Member(GetWebhook(kept.id), "disabled_reason").is_null());
}

// ---------------------------------------------------------------------------------------
// Rate limit: deliveries over rate_limit_per_s wait, they are not failed.
TEST_F(OperationsE2E, RateLimitSpacesDeliveriesWithoutFailingThem) {
  ASSERT_NO_FATAL_FAILURE(Boot());
  Webhook limited, free;
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(WebhookBody(sink_.Url("/limited")), &limited));
  EXPECT_TRUE(limited.webhook.at("rate_limit_per_s").is_null());
  ExpectError(Call("PATCH", "/api/webhooks/" + limited.id, org_key_, R"({"rate_limit_per_s":0})"), 422,
              "validation_error");
  HttpResult patched = Call("PATCH", "/api/webhooks/" + limited.id, org_key_, R"({"rate_limit_per_s":2})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(Member(Member(Json(patched), "webhook"), "rate_limit_per_s"), 2) << patched.body;
  EXPECT_EQ(Member(GetWebhook(limited.id), "rate_limit_per_s"), 2);
  json::object free_body = WebhookBody(sink_.Url("/free"));
  free_body["rate_limit_per_s"] = 1000;
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(free_body, &free));
  EXPECT_EQ(free.webhook.at("rate_limit_per_s"), 1000);

  constexpr size_t kEvents = 6;
  for (size_t i = 0; i < kEvents; ++i) PublishOk(EventBody("order.created", {{"n", static_cast<int64_t>(i)}}), 2);
  ASSERT_TRUE(sink_.WaitForCount("/limited", kEvents));
  ASSERT_TRUE(sink_.WaitForCount("/free", kEvents));
  const std::vector<SinkRequest> reqs = sink_.Requests("/limited");
  const auto spread = std::chrono::duration_cast<std::chrono::milliseconds>(reqs.back().arrived - reqs.front().arrived);
  // 2/s with a one-second burst: 6 deliveries take about 2 s.
  EXPECT_GE(spread, 1500ms) << "6 deliveries at 2/s arrived within " << spread.count() << " ms";
  const std::vector<SinkRequest> free_reqs = sink_.Requests("/free");
  const auto free_spread =
      std::chrono::duration_cast<std::chrono::milliseconds>(free_reqs.back().arrived - free_reqs.front().arrived);
  EXPECT_LT(free_spread, spread) << "the limit held back a webhook with a high limit too";
  std::cout << "[ rate     ] 2/s spread " << spread.count() << " ms; 1000/s spread " << free_spread.count() << " ms"
            << std::endl;

  json::value logs =
      WaitForLogs("&webhook_config_id=" + limited.id, [&](const json::value& v) { return Has(v, "success", kEvents); });
  EXPECT_EQ(Stat(logs, "failed"), 0);
  EXPECT_EQ(Stat(logs, "retrying"), 0);
  EXPECT_EQ(Stat(logs, "total"), static_cast<int64_t>(kEvents));
  for (const auto& log : LogArray(logs)) EXPECT_EQ(Member(log, "attempt_number"), 1) << json::serialize(log);
  std::set<std::string> ids;
  for (const auto& r : reqs) ids.insert(r.Header("webhook-id"));
  EXPECT_EQ(ids.size(), kEvents);
}

// Backpressure: past ULAK_MAX_PENDING_DELIVERIES, POST /api/events answers 429 with
// Retry-After and stores nothing; once deliveries drain, publishing works again.
TEST_F(OperationsE2E, PublishGets429WithRetryAfterWhenTooManyDeliveriesWait) {
  ASSERT_NO_FATAL_FAILURE(Boot({"ULAK_MAX_PENDING_DELIVERIES=2"}));
  sink_.SetBehaviour("/stuck", SinkBehaviour::NeverAnswer());
  Webhook w;
  json::object body = WebhookBody(sink_.Url("/stuck"));
  body["timeout_seconds"] = 3;
  body["max_in_flight"] = 1;
  body["retry_enabled"] = false;
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(body, &w));

  HttpResult limited;
  int accepted = 0;
  std::string rejected_event_id;
  for (int i = 0; i < 6 && limited.status == 0; ++i) {
    json::object event = EventBody("order.created", {{"n", i}});
    event["event_id"] = "BP-" + std::to_string(i);
    HttpResult r = Publish(event);
    if (r.status == 429) {
      limited = r;
      rejected_event_id = "BP-" + std::to_string(i);
    } else {
      EXPECT_EQ(r.status, 202) << r.body;
      ++accepted;
    }
  }
  ASSERT_EQ(limited.status, 429) << "six publishes were all accepted with a bound of 2";
  EXPECT_GE(accepted, 2) << "rejected before the bound was reached";
  EXPECT_LE(accepted, 3);
  ExpectError(limited, 429, "rate_limited");
  const std::string retry_after = limited.Header("Retry-After");
  ASSERT_TRUE(std::regex_match(retry_after, std::regex("[1-9][0-9]*"))) << "Retry-After: '" << retry_after << "'";

  // The first delivery times out after 3 s, the next one starts: room again. The rejected
  // publish stored nothing, so its event_id is new.
  ASSERT_TRUE(sink_.WaitForCount("/stuck", 2, 10s));
  json::object event = EventBody("order.created", {{"n", 99}});
  event["event_id"] = rejected_event_id;
  HttpResult again = Publish(event);
  EXPECT_EQ(again.status, 202) << again.body;
  EXPECT_TRUE(again.Header("Idempotent-Replayed").empty());
  EXPECT_EQ(Member(Json(again), "deliveries"), 1) << again.body;
}

// ---------------------------------------------------------------------------------------
// Monitoring: per-webhook success rate and average response time (24 h); failed attempts
// of the last hour, newest first.
TEST_F(OperationsE2E, MonitoringReportsSuccessRatesAndRecentFailures) {
  ASSERT_NO_FATAL_FAILURE(Boot());
  sink_.SetBehaviour("/fast", SinkBehaviour::Delayed(100ms));
  sink_.SetBehaviour("/broken", SinkBehaviour::Statuses({500}, "boom"));
  Webhook ok, broken, idle;
  json::object ok_body = WebhookBody(sink_.Url("/fast"));
  ok_body["name"] = "Fast";
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(ok_body, &ok));
  json::object broken_body = WebhookBody(sink_.Url("/broken"));
  broken_body["name"] = "Broken";
  broken_body["retry_enabled"] = false;
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(broken_body, &broken));
  json::object idle_body = WebhookBody(sink_.Url("/idle"), {"user.*"});
  idle_body["name"] = "Idle";
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(idle_body, &idle));

  PublishOk(EventBody("order.created", {{"n", 1}}), 2);
  PublishOk(EventBody("order.created", {{"n", 2}}), 2);
  WaitForLogs("&webhook_config_id=" + ok.id, [](const json::value& v) { return Has(v, "success", 2); });
  WaitForLogs("&webhook_config_id=" + broken.id, [](const json::value& v) { return Has(v, "failed", 2); });

  for (const auto& [path, key] : std::vector<std::pair<std::string, std::string>>{
           {"/api/monitoring/webhooks", org_key_},
           {"/api/monitoring/webhooks?organization_id=" + org_id_, org_key_},
           {"/api/monitoring/webhooks?organization_id=" + org_id_, kAdminKey}}) {
    HttpResult r = Call("GET", path, key);
    ASSERT_EQ(r.status, 200) << path << ": " << r.body;
    const json::value v = Json(r);
    EXPECT_EQ(Member(v, "window_hours"), 24) << r.body;
    const json::value list = Member(v, "webhooks");
    ASSERT_TRUE(list.is_array()) << r.body;
    ASSERT_EQ(list.as_array().size(), 3u) << r.body;
    std::map<std::string, json::object> by_id;
    for (const auto& row : list.as_array()) {
      ASSERT_TRUE(row.is_object()) << r.body;
      std::set<std::string> keys;
      for (const auto& kv : row.as_object()) keys.insert(std::string(kv.key()));
      EXPECT_EQ(keys, (std::set<std::string>{"webhook_config_id", "name", "total_deliveries", "successful",
                                             "success_rate", "avg_response_time"}))
          << r.body;
      by_id[Str(Member(row, "webhook_config_id"))] = row.as_object();
    }
    ASSERT_EQ(by_id.count(ok.id) + by_id.count(broken.id) + by_id.count(idle.id), 3u) << r.body;
    const json::object& o = by_id[ok.id];
    EXPECT_EQ(o.at("name"), "Fast");
    EXPECT_EQ(o.at("total_deliveries"), 2);
    EXPECT_EQ(o.at("successful"), 2);
    EXPECT_TRUE(o.at("success_rate").is_number() && o.at("success_rate").to_number<double>() == 1.0) << r.body;
    EXPECT_TRUE(o.at("avg_response_time").is_int64() && o.at("avg_response_time").as_int64() >= 90) << r.body;
    const json::object& b = by_id[broken.id];
    EXPECT_EQ(b.at("name"), "Broken");
    EXPECT_EQ(b.at("total_deliveries"), 2);
    EXPECT_EQ(b.at("successful"), 0);
    EXPECT_TRUE(b.at("success_rate").is_number() && b.at("success_rate").to_number<double>() == 0.0) << r.body;
    EXPECT_TRUE(b.at("avg_response_time").is_int64() && b.at("avg_response_time").as_int64() >= 0) << r.body;
    const json::object& i = by_id[idle.id];
    EXPECT_EQ(i.at("total_deliveries"), 0);
    EXPECT_EQ(i.at("successful"), 0);
    EXPECT_TRUE(i.at("success_rate").is_null()) << r.body;
  }
  ExpectError(Call("GET", "/api/monitoring/webhooks", kAdminKey), 422, "validation_error");
  ExpectError(Call("GET", "/api/monitoring/webhooks", ""), 401, "unauthorized");

  HttpResult f = Call("GET", "/api/monitoring/failures", org_key_);
  ASSERT_EQ(f.status, 200) << f.body;
  const json::value fv = Json(f);
  EXPECT_EQ(Member(fv, "window_hours"), 1) << f.body;
  const json::value failures = Member(fv, "failures");
  ASSERT_TRUE(failures.is_array()) << f.body;
  ASSERT_EQ(failures.as_array().size(), 2u) << f.body;
  std::set<std::string> deliveries;
  std::string previous_created;
  for (const auto& row : failures.as_array()) {
    EXPECT_EQ(Member(row, "webhook_config_id"), json::value(broken.id)) << f.body;
    EXPECT_EQ(Member(row, "response_status"), 500) << f.body;
    EXPECT_EQ(Member(row, "event_type"), "order.created") << f.body;
    EXPECT_EQ(Member(row, "attempt_number"), 1) << f.body;
    EXPECT_EQ(Member(row, "request_url"), json::value(sink_.Url("/broken"))) << f.body;
    EXPECT_TRUE(Contains(Str(Member(row, "error_message")), "500")) << f.body;
    EXPECT_FALSE(Str(Member(row, "id")).empty());
    deliveries.insert(Str(Member(row, "delivery_id")));
    const std::string created = Str(Member(row, "created_at"));
    if (!previous_created.empty()) {
      EXPECT_LE(created, previous_created) << "not newest first: " << f.body;
    }
    previous_created = created;
  }
  EXPECT_EQ(deliveries.size(), 2u);
  HttpResult admin_f = Call("GET", "/api/monitoring/failures?organization_id=" + org_id_, kAdminKey);
  ASSERT_EQ(admin_f.status, 200) << admin_f.body;
  EXPECT_EQ(Member(Json(admin_f), "failures"), failures);
}

// ---------------------------------------------------------------------------------------
// SSRF guard: with ULAK_ALLOWED_NETWORKS empty nothing private is reachable, not even the
// local sink in development mode; each attempt fails with "blocked: <address> is a
// private address".
TEST_F(OperationsE2E, SsrfGuardBlocksPrivateAddressesWhenNothingIsAllowed) {
  ASSERT_NO_FATAL_FAILURE(Boot({"ULAK_ALLOWED_NETWORKS="}));
  const std::string port = std::to_string(sink_.port());
  // URL -> the address the error must name ("" when the resolver decides, as for localhost).
  const std::vector<std::pair<std::string, std::string>> targets = {
      {"http://127.0.0.1:" + port + "/x", "127.0.0.1"},
      {"http://localhost:" + port + "/x", ""},
      {"http://[::1]:" + port + "/x", "::1"},
      {"http://169.254.169.254/latest/meta-data/", "169.254.169.254"},
      {"http://10.1.2.3:" + port + "/x", "10.1.2.3"},
      {"http://192.168.10.20:" + port + "/x", "192.168.10.20"},
      {"http://100.64.0.1:" + port + "/x", "100.64.0.1"},
      // Other spellings of loopback and "this host", which a string check on the URL misses.
      {"http://0.0.0.0:" + port + "/x", "0.0.0.0"},
      {"http://2130706433:" + port + "/x", "127.0.0.1"},
      {"http://127.1:" + port + "/x", "127.0.0.1"},
      {"http://[::ffff:127.0.0.1]:" + port + "/x", "::ffff:127.0.0.1"},
  };
  std::map<std::string, std::string> expected_by_webhook;
  for (const auto& [url, address] : targets) {
    Webhook w;
    json::object body = WebhookBody(url);
    body["retry_enabled"] = false;
    ASSERT_NO_FATAL_FAILURE(CreateWebhook(body, &w));
    expected_by_webhook[w.id] = address;
  }
  PublishOk(EventBody("order.created", {{"order_id", "ORD-SSRF"}}), static_cast<int64_t>(targets.size()));
  const auto all_failed = static_cast<int64_t>(targets.size());
  json::value logs = WaitForLogs("", [&](const json::value& v) { return Has(v, "failed", all_failed); });
  for (const auto& log : LogArray(logs)) {
    const std::string error = Str(Member(log, "error_message"));
    const std::string address = expected_by_webhook[Str(Member(log, "webhook_config_id"))];
    EXPECT_EQ(Member(log, "status"), "failed");
    EXPECT_TRUE(Member(log, "response_status").is_null()) << json::serialize(log);
    EXPECT_TRUE(StartsWith(error, "blocked: ")) << Str(Member(log, "request_url")) << ": " << error;
    EXPECT_TRUE(Contains(error, "is a private address")) << Str(Member(log, "request_url")) << ": " << error;
    if (!address.empty()) {
      EXPECT_TRUE(StartsWith(error, "blocked: " + address + " is a private address")) << error;
    }
  }
  // The test endpoint goes through the same guard.
  std::string loopback_webhook;
  for (const auto& [id, address] : expected_by_webhook) {
    if (address == "127.0.0.1") loopback_webhook = id;
  }
  HttpResult t = Call("POST", "/api/webhooks/test", org_key_,
                      json::serialize(json::object{{"webhook_config_id", loopback_webhook}}));
  ASSERT_EQ(t.status, 200) << t.body;
  EXPECT_EQ(Member(Json(t), "success"), false) << t.body;
  EXPECT_TRUE(Contains(Str(Member(Json(t), "message")), "blocked: 127.0.0.1 is a private address")) << t.body;
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(sink_.Count(), 0u) << "a blocked delivery reached the sink";
}

// With the default allowed networks (development: 127.0.0.0/8 and ::1) the local sink is
// reachable, by address and by name; other private ranges stay blocked.
TEST_F(OperationsE2E, SsrfGuardDefaultInDevelopmentAllowsLoopbackOnly) {
  ASSERT_NO_FATAL_FAILURE(Boot());
  const std::string port = std::to_string(sink_.port());
  Webhook by_address, by_name, metadata, private_net;
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(WebhookBody("http://127.0.0.1:" + port + "/by-address"), &by_address));
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(WebhookBody("http://localhost:" + port + "/by-name"), &by_name));
  json::object meta_body = WebhookBody("http://169.254.169.254/latest/meta-data/");
  meta_body["retry_enabled"] = false;
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(meta_body, &metadata));
  json::object private_body = WebhookBody("http://10.1.2.3:" + port + "/x");
  private_body["retry_enabled"] = false;
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(private_body, &private_net));
  PublishOk(EventBody("order.created", {{"order_id", "ORD-LOCAL"}}), 4);

  EXPECT_TRUE(sink_.WaitForCount("/by-address", 1));
  EXPECT_TRUE(sink_.WaitForCount("/by-name", 1));
  WaitForLogs("&webhook_config_id=" + by_name.id, [](const json::value& v) { return Has(v, "success", 1); });
  auto one_failure = [](const json::value& v) { return Has(v, "failed", 1); };
  json::value m = WaitForLogs("&webhook_config_id=" + metadata.id, one_failure);
  EXPECT_TRUE(StartsWith(Str(Member(LogArray(m).at(0), "error_message")),
                         "blocked: 169.254.169.254 is a private address"))
      << json::serialize(m);
  json::value p = WaitForLogs("&webhook_config_id=" + private_net.id, one_failure);
  EXPECT_TRUE(StartsWith(Str(Member(LogArray(p).at(0), "error_message")), "blocked: 10.1.2.3 is a private address"))
      << json::serialize(p);
}

// ---------------------------------------------------------------------------------------
// Log secrecy: after organizations, API keys, sources, webhooks, deliveries, a rotation and
// replays, the server's log (debug level) holds no secret, API key or signature value.
TEST_F(OperationsE2E, ServerLogHoldsNoSecretKeyOrSignature) {
  ASSERT_NO_FATAL_FAILURE(Boot({"ULAK_LOG_LEVEL=debug"}));
  std::vector<std::string> secrets = {kAdminKey, org_key_, kCronSecret};
  auto [other_org, other_key] = CreateOrg("Other Restaurant");
  secrets.push_back(other_key);
  HttpResult extra_key = Call("POST", "/api/organizations/" + org_id_ + "/keys", kAdminKey, R"({"name":"ci"})");
  if (extra_key.status == 201) secrets.push_back(Str(Member(Json(extra_key), "api_key")));

  const std::string stripe_secret = "whsec_logSecrecyStripeSigningSecret0123456789";
  HttpResult source = Call("POST", "/api/sources", org_key_,
                           json::serialize(json::object{{"organization_id", org_id_},
                                                        {"name", "Stripe"},
                                                        {"provider", "stripe"},
                                                        {"secrets", json::array{json::string(stripe_secret)}}}));
  ASSERT_EQ(source.status, 201) << source.body;
  secrets.push_back(stripe_secret);
  const std::string source_id = Str(Member(Member(Json(source), "source"), "id"));
  // A forged incoming request: its signature header must not be logged either.
  const std::string forged = "t=1700000000,v1=" + SeedSignature("whsec_wrong", "forged-body");
  HttpResult in = Call("POST", "/api/incoming/" + source_id, "", R"({"id":"evt_1","type":"x"})",
                       {"Content-Type: application/json", "Stripe-Signature: " + forged});
  EXPECT_EQ(in.status, 400) << in.body;
  secrets.push_back(SeedSignature("whsec_wrong", "forged-body"));
  // A wrong API key.
  const std::string wrong_key = "ulak_wrongkey_0123456789abcdef0123456789abcdef";
  EXPECT_EQ(Call("GET", "/api/webhooks", wrong_key).status, 401);
  secrets.push_back(wrong_key);

  sink_.SetBehaviour("/flaky", SinkBehaviour::Statuses({500, 200}));
  Webhook w, theirs;
  json::object body = WebhookBody(sink_.Url("/s"));
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(body, &w));
  json::object flaky_body = WebhookBody(sink_.Url("/flaky"));
  flaky_body["retry_enabled"] = false;
  Webhook flaky;
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(flaky_body, &flaky));
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(WebhookBody(sink_.Url("/theirs"), {"*"}, other_org), &theirs, other_key));
  for (const Webhook* x : {&w, &flaky, &theirs}) {
    secrets.push_back(x->secret_key);
    secrets.push_back(x->whsec);
    secrets.push_back(x->whsec.substr(6));  // the base64 key inside whsec_
  }
  const std::string event_id = PublishOk(EventBody("order.created", {{"order_id", "ORD-L1"}}), 2);
  PublishOk(EventBody("order.created", {{"order_id", "ORD-L2"}}, other_org), 1, other_key);

  HttpResult rotated =
      Call("PATCH", "/api/webhooks/" + w.id, org_key_, R"({"regenerate_secret":true,"grace_period_s":3600})");
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  secrets.push_back(Str(Member(Member(Json(rotated), "webhook"), "secret_key")));
  secrets.push_back(Str(Member(Json(rotated), "standard_webhooks_secret")));
  PublishOk(EventBody("order.created", {{"order_id", "ORD-L3"}}), 2);

  json::value logs = WaitForLogs("&webhook_config_id=" + flaky.id, [](const json::value& v) { return Has(v, "failed", 1); });
  const std::string flaky_delivery = DeliveryIds(logs, "failed").at(0);  // the other event may have succeeded
  WaitForDelivery(flaky_delivery, "failed", 1);
  EXPECT_EQ(Call("POST", "/api/deliveries/" + flaky_delivery + "/retry", org_key_).status, 202);
  EXPECT_EQ(Member(WaitForJob(StartRecover(flaky.id, "0")), "status"), "completed");
  EXPECT_EQ(Call("POST", "/api/events/" + event_id + "/resend", org_key_,
                 json::serialize(json::object{{"webhook_config_id", w.id}}))
                .status,
            202);
  EXPECT_EQ(Call("POST", "/api/webhooks/test", org_key_, json::serialize(json::object{{"webhook_config_id", w.id}}))
                .status,
            200);
  EXPECT_EQ(Call("POST", "/api/webhooks/retry", kCronSecret).status, 200);
  ASSERT_TRUE(sink_.WaitForCount("/s", 4));  // two events, the resend and the test
  ASSERT_TRUE(sink_.WaitForCount("/theirs", 1));
  ASSERT_TRUE(sink_.WaitForCount("/flaky", 3));  // two events and the retry

  for (const SinkRequest& r : sink_.Requests()) {
    secrets.push_back(r.Header("X-Webhook-Signature"));
    const std::string standard = r.Header("webhook-signature");
    secrets.push_back(standard);
    size_t start = 0;
    while (start < standard.size()) {
      size_t end = standard.find(' ', start);
      if (end == std::string::npos) end = standard.size();
      const std::string one = standard.substr(start, end - start);
      secrets.push_back(one);
      if (StartsWith(one, "v1,")) secrets.push_back(one.substr(3));
      start = end + 1;
    }
  }

  const std::string stderr_before_stop = server_->Stderr();
  EXPECT_EQ(server_->StopWith(SIGTERM), 0);
  const std::string log = server_->Stderr() + server_->Stdout();
  server_.reset();
  ASSERT_TRUE(Contains(log, "listening")) << "the log was read at all";
  ASSERT_TRUE(Contains(log, "/api/deliveries/")) << "request lines are logged";
  ASSERT_GE(log.size(), stderr_before_stop.size());
  size_t checked = 0;
  for (const std::string& secret : secrets) {
    if (secret.size() < 16) continue;  // nothing that short is a secret here; avoid chance matches
    ++checked;
    EXPECT_FALSE(Contains(log, secret)) << "the server log shows a secret: " << secret;
  }
  EXPECT_GE(checked, 30u);
}

// ---------------------------------------------------------------------------------------
// Tenant isolation: with one organization's key, every new route is run against the other
// organization's objects (404, or 403 where the other organization is named), as a table, in
// both directions; the same table with the key's own objects succeeds, so the refusals are
// not a broken route. Nothing of the other organization changes or is sent.
struct Tenant {
  std::string org;
  std::string key;
  std::string sink_path;
  Webhook webhook;
  std::string event;     // event.id
  std::string delivery;  // from the logs
  std::string job;       // a recover job
};

struct RouteCase {
  std::string method;
  std::string path;
  std::string body;
  int status;
  std::string code;  // the error code, for error statuses
};

TEST_F(OperationsE2E, TenantCannotReachAnotherTenantsDeliveriesEventsJobsOrMonitoring) {
  ASSERT_NO_FATAL_FAILURE(Boot());
  Tenant a{org_id_, org_key_, "/tenant-a", {}, "", "", ""};
  Tenant b;
  std::tie(b.org, b.key) = CreateOrg("Other Restaurant");
  b.sink_path = "/tenant-b";
  sink_.SetBehaviour("/tenant-a", SinkBehaviour::Statuses({500}));
  sink_.SetBehaviour("/tenant-b", SinkBehaviour::Statuses({500}));
  for (Tenant* t : {&a, &b}) {
    json::object body = WebhookBody(sink_.Url(t->sink_path), {"order.created"}, t->org);
    body["retry_enabled"] = false;
    ASSERT_NO_FATAL_FAILURE(CreateWebhook(body, &t->webhook, t->key));
    t->event = PublishOk(EventBody("order.created", {{"tenant", t->org}}, t->org), 1, t->key);
    json::value logs = WaitForLogs("&webhook_config_id=" + t->webhook.id,
                                   [](const json::value& v) { return Has(v, "failed", 1); }, t->key, t->org);
    t->delivery = Str(Member(LogArray(logs).at(0), "delivery_id"));
    WaitForDelivery(t->delivery, "failed", 1, t->key);
    t->job = StartRecover(t->webhook.id, std::to_string(UnixSeconds(std::chrono::system_clock::now() + 1h)), t->key);
    EXPECT_EQ(Member(WaitForJob(t->job, t->key), "status"), "completed");
  }
  ASSERT_EQ(sink_.Count("/tenant-a"), 1u);
  ASSERT_EQ(sink_.Count("/tenant-b"), 1u);

  auto resend = [](const std::string& webhook) {
    return json::serialize(json::object{{"webhook_config_id", webhook}});
  };
  // Routes run with `me`'s key against `other`'s objects.
  auto foreign_table = [&](const Tenant& me, const Tenant& other) {
    return std::vector<RouteCase>{
        {"GET", "/api/deliveries/" + other.delivery, "", 404, "not_found"},
        {"POST", "/api/deliveries/" + other.delivery + "/retry", "", 404, "not_found"},
        {"POST", "/api/webhooks/" + other.webhook.id + "/recover", R"({"since":"0"})", 404, "not_found"},
        {"GET", "/api/jobs/" + other.job, "", 404, "not_found"},
        {"POST", "/api/events/" + other.event + "/resend", resend(me.webhook.id), 404, "not_found"},
        {"POST", "/api/events/" + other.event + "/resend", resend(other.webhook.id), 404, "not_found"},
        {"POST", "/api/events/" + me.event + "/resend", resend(other.webhook.id), 404, "not_found"},
        {"GET", "/api/monitoring/webhooks?organization_id=" + other.org, "", 403, "forbidden"},
        {"GET", "/api/monitoring/failures?organization_id=" + other.org, "", 403, "forbidden"},
    };
  };
  auto run = [&](const std::vector<RouteCase>& table, const std::string& key, const std::string& label) {
    for (const RouteCase& c : table) {
      SCOPED_TRACE(label + ": " + c.method + " " + c.path + " " + c.body);
      HttpResult r = Call(c.method, c.path, key, c.body);
      if (c.code.empty()) {
        EXPECT_EQ(r.status, c.status) << r.body;
      } else {
        ExpectError(r, c.status, c.code);
      }
    }
  };

  for (const auto& [me, other] : {std::pair<Tenant*, Tenant*>{&a, &b}, std::pair<Tenant*, Tenant*>{&b, &a}}) {
    const std::string label = me == &a ? "A against B" : "B against A";
    run(foreign_table(*me, *other), me->key, label);
    // Without a key: 401 on every route.
    std::vector<RouteCase> anonymous = foreign_table(*me, *other);
    for (RouteCase& c : anonymous) {
      c.status = 401;
      c.code = "unauthorized";
    }
    run(anonymous, "", label + " without a key");

    // The other organization's objects are untouched and nothing was sent for them.
    const json::value d = GetDelivery(other->delivery, other->key);
    EXPECT_EQ(Member(d, "status"), "failed") << json::serialize(d);
    EXPECT_EQ(Member(d, "attempts"), 1) << json::serialize(d);
    EXPECT_EQ(Member(GetWebhook(other->webhook.id, other->key), "is_active"), true);

    // Monitoring scoped to my organization does not show the other's webhook or deliveries.
    const std::vector<std::string> own_paths = {
        "/api/monitoring/webhooks", "/api/monitoring/webhooks?organization_id=" + me->org,
        "/api/monitoring/failures", "/api/monitoring/failures?organization_id=" + me->org};
    for (const std::string& path : own_paths) {
      HttpResult r = Call("GET", path, me->key);
      ASSERT_EQ(r.status, 200) << label << " " << path << ": " << r.body;
      EXPECT_TRUE(Contains(r.body, me->webhook.id)) << label << " " << path << ": " << r.body;
      EXPECT_FALSE(Contains(r.body, other->webhook.id)) << label << " " << path << ": " << r.body;
      EXPECT_FALSE(Contains(r.body, other->delivery)) << label << " " << path << ": " << r.body;
      EXPECT_FALSE(Contains(r.body, other->org)) << label << " " << path << ": " << r.body;
    }
  }
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(sink_.Count("/tenant-a"), 1u) << "a foreign request made a delivery to A";
  EXPECT_EQ(sink_.Count("/tenant-b"), 1u) << "a foreign request made a delivery to B";

  // Control: the same routes with A's own objects succeed.
  const std::vector<RouteCase> own = {
      {"GET", "/api/deliveries/" + a.delivery, "", 200, ""},
      {"GET", "/api/jobs/" + a.job, "", 200, ""},
      {"GET", "/api/monitoring/webhooks?organization_id=" + a.org, "", 200, ""},
      {"GET", "/api/monitoring/failures?organization_id=" + a.org, "", 200, ""},
      {"POST", "/api/events/" + a.event + "/resend", resend(a.webhook.id), 202, ""},
      {"POST", "/api/deliveries/" + a.delivery + "/retry", "", 202, ""},
  };
  run(own, a.key, "A on its own objects");
  EXPECT_TRUE(sink_.WaitForCount("/tenant-a", 3));  // the resend and the retry
  WaitForDelivery(a.delivery, "failed", 2, a.key);
  EXPECT_EQ(Member(WaitForJob(StartRecover(a.webhook.id, "0", a.key), a.key), "status"), "completed");
  EXPECT_TRUE(sink_.WaitForCount("/tenant-a", 5));  // both failed deliveries again
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(sink_.Count("/tenant-b"), 1u);
}

}  // namespace
}  // namespace ulak::testing
