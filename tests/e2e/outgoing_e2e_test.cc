// End-to-end tests of outgoing webhooks (issue 4, SPEC §2-§4): the real `ulak serve`
// binary publishes to a real HTTP sink on 127.0.0.1 (support/sink.h), and deliveries are
// checked as a receiver would check them: exact body, headers, signatures verified by an
// independent HMAC (OpenSSL here), by seed 001's own Python and Node snippets as written,
// and by the official Standard Webhooks library from npm.
//
// Timing: nothing asserts speed except loose bounds named in the test; waits poll with
// generous timeouts (20 s). Retry policies use 1-3 s delays so the suite stays short.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <signal.h>

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
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

const std::string kCronSecret = "cron-secret-for-tests-0123456789abcdef";
const std::string kUnknownId = "01890000-0000-7000-8000-000000000000";

// Signatures are checked with support/independent_crypto.h (OpenSSL, not ulak's own code).


// ---- small JSON helpers ----

std::string Str(const json::value& v) { return v.is_string() ? std::string(v.as_string()) : std::string(); }

json::value ParseOrNull(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  return ec ? json::value(nullptr) : v;
}

int64_t Stat(const json::value& logs, const char* name) {
  if (!logs.is_object()) return -1;
  const json::value* stats = logs.as_object().if_contains("stats");
  if (stats == nullptr || !stats->is_object()) return -1;
  const json::value* v = stats->as_object().if_contains(name);
  return v != nullptr && v->is_int64() ? v->as_int64() : -1;
}

const json::array& LogArray(const json::value& logs) {
  static const json::array kEmpty;
  if (!logs.is_object()) return kEmpty;
  const json::value* a = logs.as_object().if_contains("logs");
  return a != nullptr && a->is_array() ? a->as_array() : kEmpty;
}

int64_t Listed(const json::value& logs, const std::string& status) {
  int64_t n = 0;
  for (const auto& log : LogArray(logs)) {
    if (log.is_object() && log.as_object().contains("status") && log.at("status") == json::value(status)) ++n;
  }
  return n;
}

// Both the listed attempts and the stats show n attempts with this status. (The API reads
// the two separately, so while attempts are being recorded one answer can show a new
// attempt in stats but not yet in logs; waiting on both avoids reading a half state.)
bool Has(const json::value& logs, const std::string& status, int64_t n) {
  return Stat(logs, status.c_str()) == n && Listed(logs, status) == n;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

struct Webhook {
  std::string id;
  std::string secret_key;
  std::string whsec;
  json::object created;  // the whole 201 answer
};

class OutgoingE2E : public ServerFixture {
 protected:
  void SetUp() override {
    StartServer();
    if (HasFatalFailure()) return;
    std::tie(org_id_, org_key_) = CreateOrg("Kebab House");
  }

  // The fixture's server, with CRON_SECRET set for POST /api/webhooks/retry.
  void StartServer() { Start({"ULAK_ADMIN_KEY=" + kAdminKey, "CRON_SECRET=" + kCronSecret}); }

  json::object WebhookBody(const std::string& url, json::array events = {"order.created"}) const {
    return {{"organization_id", org_id_}, {"name", "CRM"}, {"url", url}, {"events", std::move(events)}};
  }

  // Creates a webhook and checks the create answer's secrets. Use with ASSERT_NO_FATAL_FAILURE.
  void CreateWebhook(const json::object& body, Webhook* out, const std::string& key = "") {
    HttpResult r = Call("POST", "/api/webhooks", key.empty() ? org_key_ : key, json::serialize(body));
    ASSERT_EQ(r.status, 201) << r.body;
    json::value v = Json(r);
    ASSERT_TRUE(v.is_object());
    out->created = v.as_object();
    const json::object& w = v.at("webhook").as_object();
    out->id = Str(w.at("id"));
    out->secret_key = Str(w.at("secret_key"));
    out->whsec = Str(v.at("standard_webhooks_secret"));
    ASSERT_TRUE(std::regex_match(out->secret_key, std::regex("[0-9a-f]{64}"))) << out->secret_key;
    EXPECT_EQ(out->whsec, "whsec_" + Base64(HexDecode(out->secret_key)));
    EXPECT_EQ(Str(w.at("standard_webhooks_secret")), out->whsec);
    EXPECT_TRUE(Contains(Str(v.at("message")), "will not be shown again")) << r.body;
  }

  json::object EventBody(const std::string& type, json::object data) const {
    return {{"organization_id", org_id_}, {"event", type}, {"data", std::move(data)}};
  }

  HttpResult Publish(const json::object& body, std::vector<std::string> headers = {}, const std::string& key = "") {
    return Call("POST", "/api/events", key.empty() ? org_key_ : key, json::serialize(body), std::move(headers));
  }

  // Publishes and expects 202; returns the answer.
  json::value PublishOk(const json::object& body, int64_t expected_deliveries) {
    HttpResult r = Publish(body);
    EXPECT_EQ(r.status, 202) << r.body;
    json::value v = Json(r);
    if (v.is_object() && v.as_object().contains("deliveries")) {
      EXPECT_EQ(v.at("deliveries"), json::value(expected_deliveries)) << r.body;
    } else {
      ADD_FAILURE() << "no deliveries count: " << r.body;
    }
    return v;
  }

  json::value Logs(const std::string& query = "", const std::string& key = "", const std::string& org = "") {
    HttpResult r = Call("GET", "/api/webhooks/logs?organization_id=" + (org.empty() ? org_id_ : org) + query,
                        key.empty() ? org_key_ : key);
    EXPECT_EQ(r.status, 200) << r.body;
    return Json(r);
  }

  // Polls the logs until pred holds (or the timeout passes); returns the last answer.
  json::value WaitForLogs(const std::string& query, const std::function<bool(const json::value&)>& pred,
                          std::chrono::milliseconds timeout = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    json::value v = Logs(query);
    while (!pred(v) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(100ms);
      v = Logs(query);
    }
    EXPECT_TRUE(pred(v)) << "logs never matched; last answer: " << json::serialize(v);
    return v;
  }

  std::string WriteScratch(const std::string& name, const std::string& content) {
    const std::string path = dir_.path() + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  static std::string SourcePath(const std::string& relative) { return std::string(ULAK_SOURCE_DIR) + "/" + relative; }

  // Checks every header and signature of one delivery against the webhook it was for.
  static void ExpectSignedDelivery(const SinkRequest& r, const Webhook& w) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.Header("Content-Type"), "application/json");
    EXPECT_EQ(r.Header("User-Agent").rfind("ulak/", 0), 0u) << r.Header("User-Agent");
    EXPECT_GT(r.Header("User-Agent").size(), 5u);
    EXPECT_EQ(r.Header("X-Webhook-Signature"), SeedSignature(w.secret_key, r.body));
    const std::string id = r.Header("webhook-id");
    const std::string ts = r.Header("webhook-timestamp");
    EXPECT_FALSE(id.empty());
    ASSERT_TRUE(std::regex_match(ts, std::regex("[0-9]{10}"))) << ts;
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
    EXPECT_LE(std::llabs(now - std::stoll(ts)), 300) << ts;
    EXPECT_EQ(r.Header("webhook-signature"), StandardSignature(w.secret_key, id, ts, r.body));
    for (const char* name : {"X-Webhook-Signature", "webhook-id", "webhook-timestamp", "webhook-signature",
                             "Content-Type", "User-Agent"}) {
      EXPECT_EQ(std::count_if(r.headers.begin(), r.headers.end(),
                              [&](const auto& h) { return Lower(h.first) == Lower(name); }),
                1)
          << name << " is not sent exactly once";
    }
  }

  std::string org_id_;
  std::string org_key_;
  HttpSink sink_;
};

// 1. One delivery: the exact body, every header, a success log and its stats.
TEST_F(OutgoingE2E, DeliversSignedSeedBodyAndLogsSuccess) {
  Webhook w;
  json::object body = WebhookBody(sink_.Url("/crm"));
  body["custom_headers"] = json::object{{"X-API-Key", "crm-key-123"}};
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(body, &w));

  const json::object data{{"order_id", "ORD-1001"}, {"total_amount", 149.5}, {"customer", "Çiğdem Öztürk"}};
  const json::object metadata{{"source", "pos"}};
  json::object event = EventBody("order.created", data);
  event["metadata"] = metadata;
  event["event_id"] = "ORD-1001";
  json::value published = PublishOk(event, 1);
  EXPECT_FALSE(Str(published.at("event").at("id")).empty());

  ASSERT_TRUE(sink_.WaitForCount("/crm", 1));
  const SinkRequest r = sink_.Requests("/crm").at(0);
  ASSERT_NO_FATAL_FAILURE(ExpectSignedDelivery(r, w));
  EXPECT_EQ(r.Header("X-API-Key"), "crm-key-123");

  // Body: seed 001's five keys, in its order, and nothing else.
  json::value sent = ParseOrNull(r.body);
  ASSERT_TRUE(sent.is_object()) << r.body;
  std::vector<std::string> keys;
  for (const auto& kv : sent.as_object()) keys.emplace_back(kv.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"event", "timestamp", "organization_id", "data", "metadata"})) << r.body;
  EXPECT_EQ(sent.at("event"), "order.created");
  EXPECT_EQ(sent.at("organization_id"), json::value(org_id_));
  EXPECT_EQ(sent.at("data"), json::value(data));
  EXPECT_EQ(sent.at("metadata"), json::value(metadata));
  EXPECT_TRUE(std::regex_match(Str(sent.at("timestamp")),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z)")))
      << sent.at("timestamp");

  json::value logs = WaitForLogs("&webhook_config_id=" + w.id, [](const json::value& v) { return Has(v, "success", 1); });
  ASSERT_EQ(LogArray(logs).size(), 1u) << json::serialize(logs);
  const json::object& log = LogArray(logs).at(0).as_object();
  EXPECT_EQ(log.at("status"), "success");
  EXPECT_EQ(log.at("attempt_number"), 1);
  EXPECT_EQ(log.at("webhook_config_id"), json::value(w.id));
  EXPECT_EQ(log.at("delivery_id"), json::value(r.Header("webhook-id")));
  EXPECT_EQ(log.at("event_type"), "order.created");
  EXPECT_EQ(log.at("event_id"), "ORD-1001");
  EXPECT_EQ(log.at("request_url"), json::value(sink_.Url("/crm")));
  EXPECT_EQ(log.at("request_body"), sent);
  EXPECT_EQ(log.at("request_signature"), json::value(r.Header("X-Webhook-Signature")));
  EXPECT_EQ(log.at("response_status"), 200);
  EXPECT_EQ(log.at("response_body"), "ok");
  EXPECT_TRUE(log.at("response_time_ms").is_int64() && log.at("response_time_ms").as_int64() >= 0);
  EXPECT_TRUE(log.at("error_message").is_null()) << log.at("error_message");
  EXPECT_TRUE(log.at("delivered_at").is_string());
  EXPECT_TRUE(log.at("next_retry_at").is_null());
  EXPECT_TRUE(log.at("created_at").is_string());
  EXPECT_FALSE(Str(log.at("id")).empty());
  EXPECT_EQ(Stat(logs, "total"), 1);
  EXPECT_EQ(Stat(logs, "failed"), 0);
  EXPECT_EQ(Stat(logs, "retrying"), 0);
  EXPECT_GE(Stat(logs, "avgResponseTime"), 0);

  // The webhook remembers when it was last triggered; the secret is not shown again.
  HttpResult got = Call("GET", "/api/webhooks/" + w.id, org_key_);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_TRUE(Json(got).at("webhook").at("last_triggered_at").is_string()) << got.body;
  EXPECT_FALSE(Contains(got.body, w.secret_key));
  const std::string all_logs = Call("GET", "/api/webhooks/logs?organization_id=" + org_id_, org_key_).body;
  EXPECT_FALSE(Contains(all_logs, w.secret_key)) << "the logs show the secret";
  EXPECT_EQ(sink_.Count(), 1u);
}

// 2. 500 then 200: a retrying attempt with next_retry_at, then a success, same webhook-id.
TEST_F(OutgoingE2E, RetriesAfter500ThenSucceedsWithTheSameWebhookId) {
  sink_.SetBehaviour("/flaky", SinkBehaviour::Statuses({500, 200}));
  Webhook w;
  json::object body = WebhookBody(sink_.Url("/flaky"));
  body["retry_policy"] = json::object{{"kind", "custom"}, {"delays_s", json::array{1}}};
  body["max_retries"] = 2;
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(body, &w));
  PublishOk(EventBody("order.created", {{"order_id", "ORD-2"}}), 1);

  ASSERT_TRUE(sink_.WaitForCount("/flaky", 2));
  json::value logs = WaitForLogs("&webhook_config_id=" + w.id, [](const json::value& v) {
    return Has(v, "success", 1) && Has(v, "retrying", 1);
  });
  const std::vector<SinkRequest> reqs = sink_.Requests("/flaky");
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].Header("webhook-id"), reqs[1].Header("webhook-id"));
  EXPECT_EQ(reqs[0].body, reqs[1].body);
  for (const auto& r : reqs) ExpectSignedDelivery(r, w);
  EXPECT_GE(reqs[1].arrived - reqs[0].arrived, 800ms);  // the 1 s delay, loosely

  const json::array& a = LogArray(logs);
  ASSERT_EQ(a.size(), 2u) << json::serialize(logs);
  // Newest first.
  EXPECT_EQ(a[0].at("status"), "success");
  EXPECT_EQ(a[0].at("attempt_number"), 2);
  EXPECT_EQ(a[0].at("response_status"), 200);
  EXPECT_EQ(a[1].at("status"), "retrying");
  EXPECT_EQ(a[1].at("attempt_number"), 1);
  EXPECT_EQ(a[1].at("response_status"), 500);
  EXPECT_TRUE(a[1].at("next_retry_at").is_string()) << json::serialize(a[1]);
  EXPECT_TRUE(Contains(Str(a[1].at("error_message")), "500")) << json::serialize(a[1]);
  EXPECT_EQ(a[0].at("delivery_id"), a[1].at("delivery_id"));
  EXPECT_EQ(a[0].at("delivery_id"), json::value(reqs[0].Header("webhook-id")));
  EXPECT_EQ(Stat(logs, "retrying"), 1);
  EXPECT_EQ(Stat(logs, "failed"), 0);

  // Filters: by status.
  json::value only_retrying = Logs("&status=retrying&webhook_config_id=" + w.id);
  ASSERT_EQ(LogArray(only_retrying).size(), 1u);
  EXPECT_EQ(LogArray(only_retrying)[0].at("attempt_number"), 1);
  // Pages: one attempt per page, newest first, stats over the whole filter.
  json::value page1 = Logs("&limit=1&webhook_config_id=" + w.id);
  ASSERT_EQ(LogArray(page1).size(), 1u) << json::serialize(page1);
  EXPECT_EQ(LogArray(page1)[0].at("attempt_number"), 2);
  EXPECT_EQ(page1.at("has_more"), true);
  EXPECT_EQ(Stat(page1, "total"), 2);
  ASSERT_TRUE(page1.at("next_cursor").is_string()) << json::serialize(page1);
  json::value page2 = Logs("&limit=1&webhook_config_id=" + w.id + "&cursor=" + Str(page1.at("next_cursor")));
  ASSERT_EQ(LogArray(page2).size(), 1u) << json::serialize(page2);
  EXPECT_EQ(LogArray(page2)[0].at("attempt_number"), 1);
  EXPECT_EQ(page2.at("has_more"), false);
}

// 3. An endpoint that never answers: the attempt times out; retry_enabled false means one try.
TEST_F(OutgoingE2E, TimeoutFailsTheAttemptAndRetryDisabledMeansOneTry) {
  sink_.SetBehaviour("/hang", SinkBehaviour::NeverAnswer());
  Webhook w;
  json::object body = WebhookBody(sink_.Url("/hang"));
  body["timeout_seconds"] = 1;
  body["retry_enabled"] = false;
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(body, &w));
  PublishOk(EventBody("order.created", {{"order_id", "ORD-3"}}), 1);

  json::value logs = WaitForLogs("&webhook_config_id=" + w.id, [](const json::value& v) { return Has(v, "failed", 1); });
  ASSERT_EQ(LogArray(logs).size(), 1u);
  const json::value& log = LogArray(logs)[0];
  EXPECT_EQ(log.at("status"), "failed");
  EXPECT_EQ(log.at("attempt_number"), 1);
  EXPECT_TRUE(log.at("response_status").is_null());
  EXPECT_TRUE(log.at("next_retry_at").is_null());
  const std::string error = Lower(Str(log.at("error_message")));
  EXPECT_TRUE(Contains(error, "timed out") || Contains(error, "timeout")) << error;
  EXPECT_GE(log.at("response_time_ms").as_int64(), 900);  // ~ timeout_seconds, loosely

  std::this_thread::sleep_for(1500ms);  // a retry, if one were scheduled, would have come
  EXPECT_EQ(sink_.Count("/hang"), 1u);
  EXPECT_EQ(Stat(Logs("&webhook_config_id=" + w.id), "total"), 1);
}

// 4. Connection refused: a failed attempt with the error recorded.
TEST_F(OutgoingE2E, ConnectionRefusedFailsWithErrorMessage) {
  ClosedPort closed;
  Webhook w;
  json::object body = WebhookBody("http://127.0.0.1:" + std::to_string(closed.port()) + "/hook");
  body["max_retries"] = 0;
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(body, &w));
  PublishOk(EventBody("order.created", {{"order_id", "ORD-4"}}), 1);

  json::value logs = WaitForLogs("&webhook_config_id=" + w.id, [](const json::value& v) { return Has(v, "failed", 1); });
  ASSERT_EQ(LogArray(logs).size(), 1u);
  const json::value& log = LogArray(logs)[0];
  EXPECT_EQ(log.at("status"), "failed");
  EXPECT_TRUE(log.at("response_status").is_null());
  EXPECT_TRUE(Contains(Lower(Str(log.at("error_message"))), "refused")) << log.at("error_message");
  EXPECT_EQ(Stat(logs, "success"), 0);
}

// 5. DELETE cancels a waiting retry; the attempt logs stay; the webhook is gone. PATCH
// is_active:false does the same for a webhook that stays.
TEST_F(OutgoingE2E, DeleteCancelsPendingRetriesAndKeepsLogs) {
  sink_.SetBehaviour("/down", SinkBehaviour::Statuses({500}));
  sink_.SetBehaviour("/paused", SinkBehaviour::Statuses({500}));
  Webhook w, paused;
  json::object body = WebhookBody(sink_.Url("/down"));
  body["retry_policy"] = json::object{{"kind", "custom"}, {"delays_s", json::array{3}}};
  body["max_retries"] = 2;
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(body, &w));
  body["url"] = sink_.Url("/paused");
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(body, &paused));
  PublishOk(EventBody("order.created", {{"order_id", "ORD-5"}}), 2);
  WaitForLogs("&webhook_config_id=" + w.id, [](const json::value& v) { return Has(v, "retrying", 1); });
  WaitForLogs("&webhook_config_id=" + paused.id, [](const json::value& v) { return Has(v, "retrying", 1); });
  ASSERT_EQ(sink_.Count("/down"), 1u);
  ASSERT_EQ(sink_.Count("/paused"), 1u);

  HttpResult del = Call("DELETE", "/api/webhooks/" + w.id, org_key_);
  EXPECT_EQ(del.status, 204) << del.body;
  HttpResult pause = Call("PATCH", "/api/webhooks/" + paused.id, org_key_, R"({"is_active":false})");
  EXPECT_EQ(pause.status, 200) << pause.body;

  std::this_thread::sleep_for(4500ms);  // past the 3 s retry delay, with room
  EXPECT_EQ(sink_.Count("/down"), 1u) << "a retry reached the endpoint of a deleted webhook";
  EXPECT_EQ(sink_.Count("/paused"), 1u) << "a retry reached the endpoint of a deactivated webhook";
  json::value logs = Logs("&webhook_config_id=" + w.id);
  ASSERT_EQ(LogArray(logs).size(), 1u) << json::serialize(logs);
  EXPECT_EQ(LogArray(logs)[0].at("status"), "retrying");
  EXPECT_EQ(Stat(Logs("&webhook_config_id=" + paused.id), "total"), 1);
  ExpectError(Call("GET", "/api/webhooks/" + w.id, org_key_), 404, "not_found");
  ExpectError(Call("PATCH", "/api/webhooks/" + w.id, org_key_, R"({"name":"back"})"), 404, "not_found");
  ExpectError(Call("DELETE", "/api/webhooks/" + w.id, org_key_), 404, "not_found");
  ExpectError(Call("POST", "/api/webhooks/test", org_key_, R"({"webhook_config_id":")" + w.id + "\"}"), 404,
              "not_found");
  HttpResult list = Call("GET", "/api/webhooks?organization_id=" + org_id_, org_key_);
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(Json(list).at("webhooks").as_array().size(), 1u) << list.body;
  EXPECT_EQ(Json(list).at("webhooks").at(0).at("id"), json::value(paused.id));
  EXPECT_EQ(Json(list).at("webhooks").at(0).at("is_active"), false);
  // A deactivated webhook gets no new deliveries either.
  PublishOk(EventBody("order.created", {{"order_id", "ORD-5b"}}), 0);
}

// 6. Exact types and wildcards fan out; non-matching and inactive webhooks get nothing.
TEST_F(OutgoingE2E, WildcardSubscriptionsFanOut) {
  Webhook a, b, c, d, e;
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(WebhookBody(sink_.Url("/a"), {"order.*"}), &a));
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(WebhookBody(sink_.Url("/b"), {"*"}), &b));
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(WebhookBody(sink_.Url("/c"), {"order.created"}), &c));
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(WebhookBody(sink_.Url("/d"), {"user.*"}), &d));
  json::object inactive = WebhookBody(sink_.Url("/e"), {"*"});
  inactive["is_active"] = false;
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(inactive, &e));

  PublishOk(EventBody("order.created", {{"order_id", "ORD-6"}}), 3);
  ASSERT_TRUE(sink_.WaitForCount("/a", 1));
  ASSERT_TRUE(sink_.WaitForCount("/b", 1));
  ASSERT_TRUE(sink_.WaitForCount("/c", 1));
  ExpectSignedDelivery(sink_.Requests("/a").at(0), a);
  ExpectSignedDelivery(sink_.Requests("/b").at(0), b);
  ExpectSignedDelivery(sink_.Requests("/c").at(0), c);
  // One event, three deliveries: three different webhook-ids, one body.
  std::set<std::string> ids{sink_.Requests("/a")[0].Header("webhook-id"), sink_.Requests("/b")[0].Header("webhook-id"),
                            sink_.Requests("/c")[0].Header("webhook-id")};
  EXPECT_EQ(ids.size(), 3u);
  EXPECT_EQ(sink_.Requests("/a")[0].body, sink_.Requests("/c")[0].body);

  // "order.*" is a prefix on a whole segment: "orders.created" reaches only "*".
  PublishOk(EventBody("orders.created", {{"x", 1}}), 1);
  ASSERT_TRUE(sink_.WaitForCount("/b", 2));
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(sink_.Count("/a"), 1u);
  EXPECT_EQ(sink_.Count("/c"), 1u);
  EXPECT_EQ(sink_.Count("/d"), 0u);
  EXPECT_EQ(sink_.Count("/e"), 0u);
}

// 7. The same event_id (or Idempotency-Key) twice: one event, one delivery, same answer.
TEST_F(OutgoingE2E, RepeatedPublishIsIdempotent) {
  Webhook w;
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(WebhookBody(sink_.Url("/idem")), &w));

  json::object event = EventBody("order.created", {{"order_id", "ORD-7"}});
  event["event_id"] = "ORD-7";
  HttpResult first = Publish(event);
  ASSERT_EQ(first.status, 202) << first.body;
  EXPECT_EQ(Json(first).at("deliveries"), 1);
  HttpResult second = Publish(event);
  EXPECT_EQ(second.status, 202) << second.body;
  EXPECT_EQ(second.body, first.body);
  // Other data under the same event_id: 409 idempotency_conflict (Stripe's rule; issue 15),
  // nothing new.
  json::object changed = event;
  changed["data"] = json::object{{"order_id", "ORD-7"}, {"total_amount", 1}};
  HttpResult third = Publish(changed);
  ExpectError(third, 409, "idempotency_conflict");

  // The Idempotency-Key header does the same for a body without event_id.
  const json::object keyed = EventBody("order.created", {{"order_id", "ORD-8"}});
  HttpResult k1 = Publish(keyed, {"Idempotency-Key: key-ORD-8"});
  ASSERT_EQ(k1.status, 202) << k1.body;
  HttpResult k2 = Publish(keyed, {"Idempotency-Key: key-ORD-8"});
  EXPECT_EQ(k2.status, 202) << k2.body;
  EXPECT_EQ(k2.body, k1.body);
  EXPECT_NE(Json(k1).at("event").at("id"), Json(first).at("event").at("id"));

  ASSERT_TRUE(sink_.WaitForCount("/idem", 2));
  std::this_thread::sleep_for(1s);  // time for a duplicate delivery to show up, if any
  const std::vector<SinkRequest> reqs = sink_.Requests("/idem");
  EXPECT_EQ(reqs.size(), 2u);
  std::multiset<std::string> order_ids;
  for (const auto& r : reqs) order_ids.insert(Str(ParseOrNull(r.body).at("data").at("order_id")));
  EXPECT_EQ(order_ids, (std::multiset<std::string>{"ORD-7", "ORD-8"}));
  EXPECT_EQ(Stat(Logs("&webhook_config_id=" + w.id), "total"), 2);

  // event_id is scoped to the organization: another one may use the same id.
  auto [other_id, other_key] = CreateOrg("Other Restaurant");
  Webhook theirs;
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(json::object{{"organization_id", other_id}, {"name", "Theirs"},
                                                     {"url", sink_.Url("/idem-other")}, {"events", json::array{"*"}}},
                                        &theirs, other_key));
  json::object theirs_event = event;
  theirs_event["organization_id"] = other_id;
  HttpResult other = Publish(theirs_event, {}, other_key);
  ASSERT_EQ(other.status, 202) << other.body;
  EXPECT_EQ(Json(other).at("deliveries"), 1);
  EXPECT_NE(Json(other).at("event").at("id"), Json(first).at("event").at("id"));
  EXPECT_TRUE(sink_.WaitForCount("/idem-other", 1));
}

// 8. Seed 001's verification snippets, as written, accept a real delivery and reject a
// tampered one: the Python verify_webhook (run by python3) and the Node verifyWebhook.
TEST_F(OutgoingE2E, SeedVerifySnippetsAcceptDeliveryAndRejectTamperedBody) {
  const std::string py = SourcePath("tests/e2e/verify_seed001.py");
  // The function in the script is the seed's, byte for byte (checked when shared/ is there).
  const std::filesystem::path seeds = std::filesystem::path(ULAK_SOURCE_DIR) / ".." / "shared" / "seeds";
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(seeds, ec)) {
    if (entry.path().filename().string().rfind("001_", 0) != 0) continue;
    const std::string seed = ReadText(entry.path().string());
    const size_t from = seed.find("import hmac\n");
    const std::string end_marker = "return hmac.compare_digest(signature, expected_signature)";
    const size_t to = seed.find(end_marker);
    ASSERT_TRUE(from != std::string::npos && to != std::string::npos);
    EXPECT_TRUE(Contains(ReadText(py), seed.substr(from, to + end_marker.size() - from)))
        << "verify_seed001.py no longer holds seed 001's verify_webhook verbatim";
  }

  Webhook w;
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(WebhookBody(sink_.Url("/py")), &w));
  PublishOk(EventBody("order.created", {{"order_id", "ORD-9"}, {"note", "Acılı, bol soğanlı — 2×"}}), 1);
  ASSERT_TRUE(sink_.WaitForCount("/py", 1));
  const SinkRequest r = sink_.Requests("/py").at(0);
  const std::string signature = r.Header("X-Webhook-Signature");
  const std::string body_path = WriteScratch("body.json", r.body);
  std::string tampered = r.body;
  tampered.replace(tampered.find("ORD-9"), 5, "ORD-0");
  const std::string tampered_path = WriteScratch("tampered.json", tampered);

  CommandResult ok = RunCommand({"python3", py, body_path, signature, w.secret_key}, {}, dir_.path());
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  CommandResult bad = RunCommand({"python3", py, tampered_path, signature, w.secret_key}, {}, dir_.path());
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  CommandResult wrong_key = RunCommand({"python3", py, body_path, signature, std::string(64, 'a')}, {}, dir_.path());
  EXPECT_EQ(wrong_key.exit_code, 1) << wrong_key.output;

  const std::string js = SourcePath("tests/e2e/verify_seed001.js");
  CommandResult node_ok = RunCommand({"node", js, body_path, signature, w.secret_key}, {}, dir_.path());
  EXPECT_EQ(node_ok.exit_code, 0) << node_ok.output;
  CommandResult node_bad = RunCommand({"node", js, tampered_path, signature, w.secret_key}, {}, dir_.path());
  EXPECT_EQ(node_bad.exit_code, 1) << node_bad.output;
}

// 9. The official Standard Webhooks library (npm "standardwebhooks") accepts the webhook-*
// headers with standard_webhooks_secret, and rejects a tampered body. Needs npm: the
// install runs as a ctest fixture (tests/CMakeLists.txt) and again here (a no-op then), so
// the test also works when run directly. Without npm this fails; it never skips.
TEST_F(OutgoingE2E, StandardWebhooksLibraryAcceptsDeliveryAndRejectsTamperedBody) {
  CommandResult install = RunCommand({"bash", SourcePath("scripts/install-test-node-deps.sh"), ULAK_TEST_NODE_PREFIX},
                                     {}, dir_.path(), 300s);
  ASSERT_EQ(install.exit_code, 0) << "installing the npm package standardwebhooks failed:\n" << install.output;

  sink_.SetBehaviour("/std", SinkBehaviour::Statuses({500, 200}));
  Webhook w;
  json::object body = WebhookBody(sink_.Url("/std"));
  body["retry_policy"] = json::object{{"kind", "custom"}, {"delays_s", json::array{1}}};
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(body, &w));
  PublishOk(EventBody("order.created", {{"order_id", "ORD-10"}, {"customer", "Şükrü"}}), 1);
  ASSERT_TRUE(sink_.WaitForCount("/std", 2));  // a first try and its retry: both verify

  const std::string js = SourcePath("tests/e2e/verify_standard.js");
  const std::vector<std::string> env = {"NODE_PATH=" + std::string(ULAK_TEST_NODE_PREFIX) + "/node_modules"};
  int n = 0;
  for (const SinkRequest& r : sink_.Requests("/std")) {
    const std::string path = WriteScratch("std" + std::to_string(++n) + ".json", r.body);
    CommandResult ok = RunCommand({"node", js, path, w.whsec, r.Header("webhook-id"), r.Header("webhook-timestamp"),
                                   r.Header("webhook-signature")},
                                  env, dir_.path());
    EXPECT_EQ(ok.exit_code, 0) << "delivery " << n << ": " << ok.output;
  }
  const SinkRequest r = sink_.Requests("/std").at(0);
  std::string tampered = r.body;
  tampered.replace(tampered.find("ORD-10"), 6, "ORD-11");
  const std::string tampered_path = WriteScratch("std_tampered.json", tampered);
  CommandResult bad = RunCommand({"node", js, tampered_path, w.whsec, r.Header("webhook-id"),
                                  r.Header("webhook-timestamp"), r.Header("webhook-signature")},
                                 env, dir_.path());
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  // Another message id under the same signature: rejected too (the id is signed).
  const std::string body_path = WriteScratch("std_again.json", r.body);
  CommandResult other_id = RunCommand({"node", js, body_path, w.whsec, r.Header("webhook-id") + "x",
                                       r.Header("webhook-timestamp"), r.Header("webhook-signature")},
                                      env, dir_.path());
  EXPECT_EQ(other_id.exit_code, 1) << other_id.output;
}

// 10. kill -9 with deliveries queued and in flight, restart on the same database: every
// accepted event arrives at least once, each event under one stable webhook-id.
TEST_F(OutgoingE2E, SurvivesKill9WithDeliveriesPendingAndInFlight) {
  constexpr int kEvents = 20;
  sink_.SetBehaviour("/slow", SinkBehaviour::Delayed(300ms));
  Webhook w;
  json::object body = WebhookBody(sink_.Url("/slow"));
  body["max_in_flight"] = 2;
  body["retry_policy"] = json::object{{"kind", "custom"}, {"delays_s", json::array{1}}};
  body["max_retries"] = 5;
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(body, &w));

  for (int i = 0; i < kEvents; ++i) {
    json::object event = EventBody("order.created", {{"n", i}});
    event["event_id"] = "crash-" + std::to_string(i);
    PublishOk(event, 1);  // 202: durable from here on
  }
  ASSERT_TRUE(sink_.WaitForCount("/slow", 3));
  EXPECT_EQ(server_->StopWith(SIGKILL), 128 + SIGKILL);
  const size_t before_restart = sink_.Count("/slow");
  ASSERT_LT(before_restart, static_cast<size_t>(kEvents)) << "everything was delivered before the kill";

  ASSERT_NO_FATAL_FAILURE(StartServer());
  auto distinct_events = [](const std::vector<SinkRequest>& all) {
    std::set<int64_t> seen;
    for (const auto& r : all) {
      json::value v = ParseOrNull(r.body);
      if (v.is_object() && v.at("data").at("n").is_int64()) seen.insert(v.at("data").at("n").as_int64());
    }
    return seen.size();
  };
  EXPECT_TRUE(sink_.WaitFor([&](const auto& all) { return distinct_events(all) == static_cast<size_t>(kEvents); }, 30s))
      << "only " << distinct_events(sink_.Requests()) << " of " << kEvents << " events arrived";

  std::map<int64_t, std::set<std::string>> ids_by_event;
  std::map<std::string, int64_t> event_by_id;
  for (const auto& r : sink_.Requests("/slow")) {
    const int64_t n = ParseOrNull(r.body).at("data").at("n").as_int64();
    const std::string id = r.Header("webhook-id");
    ids_by_event[n].insert(id);
    auto it = event_by_id.emplace(id, n).first;
    EXPECT_EQ(it->second, n) << "webhook-id " << id << " used for two events";
    ExpectSignedDelivery(r, w);
  }
  for (const auto& [n, ids] : ids_by_event) EXPECT_EQ(ids.size(), 1u) << "event " << n << " had several webhook-ids";
  const size_t total = sink_.Count("/slow");
  std::cout << "[ crash    ] " << total << " requests for " << kEvents << " events (" << total - kEvents
            << " duplicates); " << before_restart << " had arrived before kill -9" << std::endl;
  RecordProperty("crash_requests", static_cast<int>(total));

  // Each delivery ends with exactly one success attempt logged.
  WaitForLogs("&webhook_config_id=" + w.id + "&status=success",
              [&](const json::value& v) { return Stat(v, "success") >= kEvents && Listed(v, "success") >= kEvents; });
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(Stat(Logs("&webhook_config_id=" + w.id + "&status=success"), "success"), kEvents);
}

// 10b. A retry waiting when the process dies is stored: after restart it fires at its
// time (not at once, not never), under the same webhook-id.
TEST_F(OutgoingE2E, WaitingRetrySurvivesKill9AndFiresOnTime) {
  sink_.SetBehaviour("/resume", SinkBehaviour::Statuses({500, 200}));
  Webhook w;
  json::object body = WebhookBody(sink_.Url("/resume"));
  body["retry_policy"] = json::object{{"kind", "custom"}, {"delays_s", json::array{3}}};
  body["max_retries"] = 1;
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(body, &w));
  PublishOk(EventBody("order.created", {{"order_id", "ORD-16"}}), 1);
  WaitForLogs("&webhook_config_id=" + w.id, [](const json::value& v) { return Has(v, "retrying", 1); });
  EXPECT_EQ(server_->StopWith(SIGKILL), 128 + SIGKILL);
  ASSERT_NO_FATAL_FAILURE(StartServer());

  ASSERT_TRUE(sink_.WaitForCount("/resume", 2));
  const std::vector<SinkRequest> reqs = sink_.Requests("/resume");
  const auto gap = std::chrono::duration_cast<std::chrono::milliseconds>(reqs[1].arrived - reqs[0].arrived);
  EXPECT_GE(gap, 2500ms) << "the retry came early: " << gap.count() << " ms after the first try";
  EXPECT_LT(gap, 8s) << "the retry came late: " << gap.count() << " ms after the first try";
  EXPECT_EQ(reqs[0].Header("webhook-id"), reqs[1].Header("webhook-id"));
  ExpectSignedDelivery(reqs[1], w);
  json::value logs = WaitForLogs("&webhook_config_id=" + w.id, [](const json::value& v) { return Has(v, "success", 1); });
  EXPECT_EQ(LogArray(logs).at(0).at("attempt_number"), 2);
  EXPECT_EQ(Stat(logs, "total"), 2);
}

// 11. A dead endpoint (never answers) does not slow a healthy one: B's 20 deliveries all
// arrive before A's first timeouts (5 s) fire, and A never has more than max_in_flight open.
TEST_F(OutgoingE2E, DeadEndpointDoesNotDelayHealthyOne) {
  constexpr int kEvents = 20;
  sink_.SetBehaviour("/dead", SinkBehaviour::NeverAnswer());
  Webhook a, b;
  json::object dead = WebhookBody(sink_.Url("/dead"));
  dead["timeout_seconds"] = 5;
  dead["max_in_flight"] = 2;
  dead["retry_enabled"] = false;
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(dead, &a));
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(WebhookBody(sink_.Url("/healthy")), &b));

  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kEvents; ++i) PublishOk(EventBody("order.created", {{"n", i}}), 2);
  ASSERT_TRUE(sink_.WaitForCount("/healthy", kEvents));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  const size_t dead_open = sink_.Count("/dead");
  const int64_t dead_logged = Stat(Logs("&webhook_config_id=" + a.id), "total");
  const auto checked = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, 4s) << "the healthy endpoint took "
                         << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms";
  if (checked < 4500ms) {  // A's first tries cannot have timed out yet
    EXPECT_EQ(dead_open, 2u) << "A should hold exactly max_in_flight (2) requests open";
    EXPECT_EQ(dead_logged, 0) << "an attempt to A ended before its timeout";
  }
  WaitForLogs("&webhook_config_id=" + b.id, [&](const json::value& v) { return Has(v, "success", kEvents); });
}

// 11b. Redirects are answers, not followed (a 3xx is a failed attempt); a large response is
// stored only up to 64 KiB and does not spoil a success.
TEST_F(OutgoingE2E, RedirectIsNotFollowedAndLargeResponseIsCapped) {
  SinkBehaviour redirect = SinkBehaviour::Statuses({302}, "");
  redirect.response_headers = {{"Location", sink_.Url("/target")}};
  sink_.SetBehaviour("/moved", redirect);
  sink_.SetBehaviour("/big", SinkBehaviour::Statuses({200}, std::string(100 * 1024, 'x')));
  Webhook moved, big;
  json::object moved_body = WebhookBody(sink_.Url("/moved"));
  moved_body["max_retries"] = 0;
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(moved_body, &moved));
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(WebhookBody(sink_.Url("/big")), &big));
  PublishOk(EventBody("order.created", {{"order_id", "ORD-17"}}), 2);

  json::value m = WaitForLogs("&webhook_config_id=" + moved.id, [](const json::value& v) { return Has(v, "failed", 1); });
  EXPECT_EQ(LogArray(m).at(0).at("response_status"), 302);
  EXPECT_TRUE(Contains(Str(LogArray(m).at(0).at("error_message")), "302")) << json::serialize(m);
  json::value b = WaitForLogs("&webhook_config_id=" + big.id, [](const json::value& v) { return Has(v, "success", 1); });
  const std::string stored = Str(LogArray(b).at(0).at("response_body"));
  EXPECT_LE(stored.size(), 64u * 1024u);
  EXPECT_GE(stored.size(), 1024u);
  EXPECT_EQ(stored.find_first_not_of('x'), std::string::npos);
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(sink_.Count("/target"), 0u);
}

// 12. Bad inputs get the documented error and store nothing.
TEST_F(OutgoingE2E, BadInputsAreRejectedAndStoreNothing) {
  Webhook kept;
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(WebhookBody(sink_.Url("/kept")), &kept));
  const std::string list_path = "/api/webhooks?organization_id=" + org_id_;
  const std::string before = Call("GET", list_path, org_key_).body;

  auto expect_invalid = [&](json::object body, const std::string& field) {
    HttpResult r = Call("POST", "/api/webhooks", org_key_, json::serialize(body));
    ExpectError(r, 422, "validation_error");
    EXPECT_TRUE(Contains(r.body, field)) << "message does not name " << field << ": " << r.body;
  };
  auto with = [&](const char* key, json::value v) {
    json::object body = WebhookBody(sink_.Url("/bad"));
    body[key] = std::move(v);
    return body;
  };
  expect_invalid(with("url", "not a url"), "url");
  expect_invalid(with("url", "ftp://x"), "url");
  expect_invalid(with("url", "http://"), "url");
  expect_invalid(with("events", json::array{}), "events");
  expect_invalid(with("events", json::array{"not an event!"}), "events");
  expect_invalid(with("timeout_seconds", 0), "timeout_seconds");
  expect_invalid(with("timeout_seconds", 61), "timeout_seconds");
  expect_invalid(with("max_retries", 11), "max_retries");
  expect_invalid(with("max_retries", -1), "max_retries");
  expect_invalid(with("max_in_flight", 0), "max_in_flight");
  expect_invalid(with("max_in_flight", 257), "max_in_flight");
  expect_invalid(with("custom_headers", json::object{{"X-API-Key", "a\r\nX-Injected: 1"}}), "custom_headers");
  expect_invalid(with("custom_headers", json::object{{"X-API-Key", "a\nb"}}), "custom_headers");
  expect_invalid(with("custom_headers", json::object{{"X-Webhook-Signature", "forged"}}), "custom_headers");
  expect_invalid(with("custom_headers", json::object{{"webhook-id", "forged"}}), "custom_headers");
  expect_invalid(with("custom_headers", json::object{{"Content-Type", "text/plain"}}), "custom_headers");
  expect_invalid(with("retry_policy", json::object{{"kind", "sometimes"}}), "retry_policy");
  json::object no_url = WebhookBody(sink_.Url("/bad"));
  no_url.erase("url");
  expect_invalid(no_url, "url");
  ExpectError(Call("POST", "/api/webhooks", org_key_, "{\"name\":"), 400, "invalid_json");
  EXPECT_EQ(Call("GET", list_path, org_key_).body, before);

  // Unknown webhook id: 404 everywhere.
  ExpectError(Call("GET", "/api/webhooks/" + kUnknownId, org_key_), 404, "not_found");
  ExpectError(Call("PATCH", "/api/webhooks/" + kUnknownId, org_key_, R"({"name":"x"})"), 404, "not_found");
  ExpectError(Call("DELETE", "/api/webhooks/" + kUnknownId, org_key_), 404, "not_found");
  ExpectError(Call("POST", "/api/webhooks/test", org_key_, R"({"webhook_config_id":")" + kUnknownId + "\"}"), 404,
              "not_found");

  // Another organization's webhook: 404 to this organization's key, and left untouched.
  auto [other_id, other_key] = CreateOrg("Other Restaurant");
  json::object other_body{{"organization_id", other_id}, {"name", "Theirs"}, {"url", sink_.Url("/theirs")},
                          {"events", json::array{"*"}}};
  Webhook theirs;
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(other_body, &theirs, other_key));
  ExpectError(Call("GET", "/api/webhooks/" + theirs.id, org_key_), 404, "not_found");
  ExpectError(Call("PATCH", "/api/webhooks/" + theirs.id, org_key_, R"({"name":"mine now"})"), 404, "not_found");
  ExpectError(Call("DELETE", "/api/webhooks/" + theirs.id, org_key_), 404, "not_found");
  ExpectError(Call("POST", "/api/webhooks/test", org_key_, R"({"webhook_config_id":")" + theirs.id + "\"}"), 404,
              "not_found");
  HttpResult still = Call("GET", "/api/webhooks/" + theirs.id, other_key);
  ASSERT_EQ(still.status, 200) << still.body;
  EXPECT_EQ(Json(still).at("webhook").at("name"), "Theirs");
  // Naming the other organization: 403.
  other_body["name"] = "Planted";
  ExpectError(Call("POST", "/api/webhooks", org_key_, json::serialize(other_body)), 403, "forbidden");
  ExpectError(Call("GET", "/api/webhooks?organization_id=" + other_id, org_key_), 403, "forbidden");
  ExpectError(Call("GET", "/api/webhooks/logs?organization_id=" + other_id, org_key_), 403, "forbidden");
  HttpResult theirs_list = Call("GET", "/api/webhooks?organization_id=" + other_id, other_key);
  ASSERT_EQ(theirs_list.status, 200);
  EXPECT_EQ(Json(theirs_list).at("webhooks").as_array().size(), 1u) << theirs_list.body;
  EXPECT_EQ(Call("GET", list_path, org_key_).body, before);

  // Bad publishes: the documented error, no event, no delivery, no log.
  auto expect_bad_publish = [&](json::object body, const std::string& field) {
    HttpResult r = Publish(body);
    ExpectError(r, 422, "validation_error");
    EXPECT_TRUE(Contains(r.body, field)) << r.body;
  };
  json::object no_data{{"organization_id", org_id_}, {"event", "order.created"}, {"event_id", "BAD-1"}};
  expect_bad_publish(no_data, "data");
  json::object array_data = EventBody("order.created", {});
  array_data["data"] = json::array{1, 2};
  array_data["event_id"] = "BAD-1";
  expect_bad_publish(array_data, "data");
  json::object bad_name = EventBody("order created!", {{"x", 1}});
  bad_name["event_id"] = "BAD-1";
  expect_bad_publish(bad_name, "event");
  expect_bad_publish(EventBody("order.*", {{"x", 1}}), "event");
  json::object elsewhere = EventBody("order.created", {{"x", 1}});
  elsewhere["organization_id"] = other_id;
  ExpectError(Publish(elsewhere), 403, "forbidden");
  json::object nowhere = EventBody("order.created", {{"x", 1}});
  nowhere["organization_id"] = kUnknownId;
  ExpectError(Publish(nowhere, {}, kAdminKey), 404, "not_found");
  ExpectError(Call("POST", "/api/events", org_key_, "{not json"), 400, "invalid_json");

  std::this_thread::sleep_for(1s);
  EXPECT_EQ(sink_.Count(), 0u);
  EXPECT_EQ(Stat(Logs(), "total"), 0);
  EXPECT_EQ(Stat(Logs("", other_key, other_id), "total"), 0);
  // The rejected publishes stored nothing, so their event_id is still new.
  json::object good = EventBody("order.created", {{"x", 1}});
  good["event_id"] = "BAD-1";
  HttpResult r = Publish(good);
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_TRUE(r.Header("Idempotent-Replayed").empty());
  EXPECT_EQ(Json(r).at("deliveries"), 1);
  EXPECT_TRUE(sink_.WaitForCount("/kept", 1));
}

// 13. POST /api/webhooks/retry: 401 without the cron secret; with it, runs the waiting retry now.
TEST_F(OutgoingE2E, RetryEndpointNeedsCronSecretAndRunsWaitingRetries) {
  sink_.SetBehaviour("/later", SinkBehaviour::Statuses({500, 200}));
  Webhook w;
  json::object body = WebhookBody(sink_.Url("/later"));
  body["retry_policy"] = json::object{{"kind", "custom"}, {"delays_s", json::array{60}}};
  body["max_retries"] = 1;
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(body, &w));
  PublishOk(EventBody("order.created", {{"order_id", "ORD-13"}}), 1);
  WaitForLogs("&webhook_config_id=" + w.id, [](const json::value& v) { return Has(v, "retrying", 1); });

  ExpectError(Call("POST", "/api/webhooks/retry", ""), 401, "unauthorized");
  ExpectError(Call("POST", "/api/webhooks/retry", "wrong-secret"), 401, "unauthorized");
  ExpectError(Call("POST", "/api/webhooks/retry", org_key_), 401, "unauthorized");
  EXPECT_EQ(sink_.Count("/later"), 1u);

  const auto asked = std::chrono::steady_clock::now();
  HttpResult r = Call("POST", "/api/webhooks/retry", kCronSecret);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r).at("success"), true);
  EXPECT_EQ(Json(r).at("processed"), 1) << r.body;
  ASSERT_TRUE(sink_.WaitForCount("/later", 2, 10s)) << "the retry did not run (its own time is 60 s away)";
  EXPECT_LT(sink_.Requests("/later").at(1).arrived - asked, 10s);
  json::value logs = WaitForLogs("&webhook_config_id=" + w.id, [](const json::value& v) { return Has(v, "success", 1); });
  EXPECT_EQ(LogArray(logs).at(0).at("attempt_number"), 2);
  const std::vector<SinkRequest> reqs = sink_.Requests("/later");
  EXPECT_EQ(reqs[0].Header("webhook-id"), reqs[1].Header("webhook-id"));

  // Nothing waits any more; the admin key is accepted too.
  HttpResult again = Call("POST", "/api/webhooks/retry", kAdminKey);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(Json(again).at("processed"), 0);
}

// 14. PATCH: regenerate_secret shows a new secret once; deliveries use it; GET never shows it.
TEST_F(OutgoingE2E, PatchRegeneratesSecretAndLaterDeliveriesUseIt) {
  Webhook w;
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(WebhookBody(sink_.Url("/rotate")), &w));

  HttpResult plain = Call("PATCH", "/api/webhooks/" + w.id, org_key_, R"({"name":"Renamed","max_in_flight":4})");
  ASSERT_EQ(plain.status, 200) << plain.body;
  EXPECT_FALSE(Contains(plain.body, "secret_key")) << plain.body;
  EXPECT_FALSE(Contains(plain.body, w.secret_key));
  EXPECT_EQ(Json(plain).at("webhook").at("name"), "Renamed");
  EXPECT_EQ(Json(plain).at("webhook").at("max_in_flight"), 4);
  ExpectError(Call("PATCH", "/api/webhooks/" + w.id, org_key_, R"({"timeout_seconds":0,"name":"Nope"})"), 422,
              "validation_error");

  HttpResult rotated = Call("PATCH", "/api/webhooks/" + w.id, org_key_, R"({"regenerate_secret":true})");
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  json::value v = Json(rotated);
  const std::string new_key = Str(v.at("webhook").at("secret_key"));
  const std::string new_whsec = Str(v.at("standard_webhooks_secret"));
  ASSERT_TRUE(std::regex_match(new_key, std::regex("[0-9a-f]{64}"))) << rotated.body;
  EXPECT_NE(new_key, w.secret_key);
  EXPECT_EQ(new_whsec, "whsec_" + Base64(HexDecode(new_key)));
  EXPECT_EQ(v.at("webhook").at("name"), "Renamed");

  for (const std::string& path : {"/api/webhooks/" + w.id, "/api/webhooks?organization_id=" + org_id_}) {
    HttpResult got = Call("GET", path, org_key_);
    ASSERT_EQ(got.status, 200) << got.body;
    EXPECT_FALSE(Contains(got.body, "secret_key")) << got.body;
    EXPECT_FALSE(Contains(got.body, new_key));
    EXPECT_FALSE(Contains(got.body, new_whsec));
    EXPECT_FALSE(Contains(got.body, w.secret_key));
  }
  HttpResult got = Call("GET", "/api/webhooks/" + w.id, org_key_);
  EXPECT_EQ(Json(got).at("webhook").at("name"), "Renamed");
  EXPECT_EQ(Json(got).at("webhook").at("max_in_flight"), 4);

  PublishOk(EventBody("order.created", {{"order_id", "ORD-14"}}), 1);
  ASSERT_TRUE(sink_.WaitForCount("/rotate", 1));
  const SinkRequest r = sink_.Requests("/rotate").at(0);
  Webhook rotated_webhook = w;
  rotated_webhook.secret_key = new_key;
  ExpectSignedDelivery(r, rotated_webhook);
  EXPECT_NE(r.Header("X-Webhook-Signature"), SeedSignature(w.secret_key, r.body));
}

// 15. POST /api/webhooks/test sends a signed webhook.test now and answers as seed 001 does.
TEST_F(OutgoingE2E, TestEndpointSendsSignedTestEventAndLogsIt) {
  Webhook w;
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(WebhookBody(sink_.Url("/test-ok")), &w));
  HttpResult r = Call("POST", "/api/webhooks/test", org_key_, R"({"webhook_config_id":")" + w.id + "\"}");
  ASSERT_EQ(r.status, 200) << r.body;
  json::value v = Json(r);
  EXPECT_EQ(v.at("success"), true);
  EXPECT_EQ(v.at("statusCode"), 200);
  EXPECT_EQ(v.at("responseBody"), "ok");
  EXPECT_TRUE(v.at("responseTimeMs").is_int64());
  EXPECT_TRUE(v.at("message").is_string());
  ASSERT_EQ(sink_.Count("/test-ok"), 1u);  // sent before the answer
  const SinkRequest sent = sink_.Requests("/test-ok").at(0);
  ExpectSignedDelivery(sent, w);
  EXPECT_EQ(ParseOrNull(sent.body).at("event"), "webhook.test");
  json::value logs = WaitForLogs("&event_type=webhook.test", [](const json::value& l) { return Has(l, "success", 1); });
  EXPECT_EQ(LogArray(logs).at(0).at("webhook_config_id"), json::value(w.id));

  sink_.SetBehaviour("/test-fail", SinkBehaviour::Statuses({500}, "boom"));
  Webhook failing;
  ASSERT_NO_FATAL_FAILURE(CreateWebhook(WebhookBody(sink_.Url("/test-fail")), &failing));
  HttpResult f = Call("POST", "/api/webhooks/test", org_key_, R"({"webhook_config_id":")" + failing.id + "\"}");
  ASSERT_EQ(f.status, 200) << f.body;
  EXPECT_EQ(Json(f).at("success"), false);
  EXPECT_EQ(Json(f).at("statusCode"), 500);
  EXPECT_EQ(Json(f).at("responseBody"), "boom");
  std::this_thread::sleep_for(1500ms);  // a test send is never retried
  EXPECT_EQ(sink_.Count("/test-fail"), 1u);
}

}  // namespace
}  // namespace ulak::testing
