// The API behind the web UI, against the real binary: delivery stats per bucket (they add up
// to the logs' stats), tenant portal tokens (scoped, short-lived, tamper-proof, revocable),
// request inboxes (any method recorded, settable answer, limits, scoped to their organization).
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <chrono>
#include <string>
#include <thread>

#include "e2e/server_fixture.h"

namespace ulak::testing {
namespace {

class UiApiE2E : public ServerFixture {
 protected:
  // Polls (bounded) until the organization's logs hold `total` attempts.
  boost::json::value WaitForLogs(const std::string& key, int64_t total) {
    boost::json::value v;
    for (int i = 0; i < 200; ++i) {
      v = Json(Call("GET", "/api/webhooks/logs?limit=1", key));
      if (v.at("stats").at("total").as_int64() >= total) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return v;
  }
  std::string CreateInbox(const std::string& key, const std::string& body = "{}") {
    HttpResult r = Call("POST", "/api/inboxes", key, body);
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(Json(r).at("inbox").at("id").as_string());
  }
  std::string CreateWebhookTo(const std::string& key, const std::string& inbox_id) {
    HttpResult r = Call("POST", "/api/webhooks", key,
                        R"({"name":"to inbox","url":")" + server_->BaseUrl() + "/in/" + inbox_id +
                            R"(","events":["*"],"retry_enabled":false})");
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(Json(r).at("webhook").at("id").as_string());
  }
  static int64_t Sum(const boost::json::value& stats, const char* field) {
    int64_t n = 0;
    for (const auto& b : stats.at("buckets").as_array()) n += b.at(field).as_int64();
    return n;
  }
};

TEST_F(UiApiE2E, DeliveryStatsBucketsAddUpToTheLogsStats) {
  auto [org, key] = CreateOrg("stats");
  const std::string inbox = CreateInbox(key);
  const std::string webhook = CreateWebhookTo(key, inbox);
  for (int i = 0; i < 6; ++i) {
    if (i == 4) {
      // A 202 means the engine has the event, not that it was delivered: the first four are
      // answered before the inbox starts failing.
      WaitForLogs(key, 4);
      ASSERT_EQ(Call("PATCH", "/api/inboxes/" + inbox, key, R"({"status":500})").status, 200);
    }
    HttpResult r = Call("POST", "/api/events", key, R"({"event":"order.created","data":{"n":)" + std::to_string(i) + "}}");
    ASSERT_EQ(r.status, 202) << r.body;
  }
  const boost::json::value logs = WaitForLogs(key, 6);
  ASSERT_EQ(logs.at("stats").at("total").as_int64(), 6);

  for (const char* bucket : {"minute", "hour", "day"}) {
    SCOPED_TRACE(bucket);
    HttpResult r = Call("GET", std::string("/api/stats/deliveries?bucket=") + bucket, key);
    ASSERT_EQ(r.status, 200) << r.body;
    const boost::json::value stats = Json(r);
    EXPECT_EQ(Sum(stats, "success"), logs.at("stats").at("success").as_int64());
    EXPECT_EQ(Sum(stats, "failed"), logs.at("stats").at("failed").as_int64());
    EXPECT_EQ(Sum(stats, "retrying"), logs.at("stats").at("retrying").as_int64());
    EXPECT_EQ(Sum(stats, "success"), 4);
    EXPECT_EQ(Sum(stats, "failed"), 2);
    // Every bucket of the range is there, empty ones too: 60 minutes, 24 hours, 7 days
    // (one more when the range does not start on a bucket boundary).
    const size_t n = stats.at("buckets").as_array().size();
    const size_t expected = bucket == std::string("minute") ? 60 : bucket == std::string("hour") ? 24 : 7;
    EXPECT_TRUE(n == expected || n == expected + 1) << n;
    for (const auto& b : stats.at("buckets").as_array()) {
      const int64_t total = b.at("success").as_int64() + b.at("failed").as_int64() + b.at("retrying").as_int64();
      if (total > 0) {
        EXPECT_GE(b.at("p95_response_ms").as_int64(), 0);
      }
    }
  }
  // Per webhook, and scoped: the admin names the organization, another organization's key
  // does not find the webhook.
  HttpResult one = Call("GET", "/api/stats/deliveries?bucket=hour&webhook_config_id=" + webhook, key);
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(Sum(Json(one), "success"), 4);
  HttpResult admin = Call("GET", "/api/stats/deliveries?bucket=hour&organization_id=" + org, kAdminKey);
  ASSERT_EQ(admin.status, 200) << admin.body;
  EXPECT_EQ(Sum(Json(admin), "failed"), 2);
  ExpectError(Call("GET", "/api/stats/deliveries", kAdminKey), 422, "validation_error");
  auto [other_org, other_key] = CreateOrg("other");
  ExpectError(Call("GET", "/api/stats/deliveries?webhook_config_id=" + webhook, other_key), 404, "not_found");
  ExpectError(Call("GET", "/api/stats/deliveries?bucket=week", key), 422, "validation_error");
  ExpectError(Call("GET", "/api/stats/deliveries?from=2030-01-01T00:00:00Z&to=2029-01-01T00:00:00Z", key), 422,
              "validation_error");
  ExpectError(Call("GET", "/api/stats/deliveries?bucket=minute&from=2020-01-01T00:00:00Z", key), 422,
              "validation_error");  // too many buckets
  ExpectError(Call("GET", "/api/stats/deliveries", ""), 401, "unauthorized");
}

TEST_F(UiApiE2E, PortalTokensAreScopedTamperProofShortLivedAndRevocable) {
  auto [a, a_key] = CreateOrg("A");
  auto [b, b_key] = CreateOrg("B");
  ASSERT_EQ(Call("POST", "/api/webhooks", b_key, R"({"name":"b","url":"https://example.com/b","events":["*"]})").status, 201);
  HttpResult link = Call("POST", "/api/organizations/" + a + "/portal", a_key, "");
  ASSERT_EQ(link.status, 201) << link.body;
  const std::string url(Json(link).at("url").as_string());
  ASSERT_EQ(url.rfind("/ui/#portal=", 0), 0u) << url;
  EXPECT_TRUE(Json(link).as_object().contains("expires_at"));
  const std::string token = url.substr(std::string("/ui/#portal=").size());

  // Scoped to A: its own data, nothing of B's, no keys, no admin routes.
  EXPECT_EQ(Call("GET", "/api/webhooks", token).status, 200);
  EXPECT_EQ(Json(Call("GET", "/api/whoami", token)).at("kind").as_string(), "portal");
  ExpectError(Call("GET", "/api/webhooks?organization_id=" + b, token), 403, "forbidden");
  ExpectError(Call("GET", "/api/organizations/" + b, token), 403, "forbidden");
  ExpectError(Call("POST", "/api/organizations/" + a + "/keys", token), 403, "forbidden");
  ExpectError(Call("GET", "/api/organizations/" + a + "/keys", token), 403, "forbidden");
  ExpectError(Call("POST", "/api/organizations/" + a + "/portal", token), 403, "forbidden");
  ExpectError(Call("POST", "/api/organizations", token, R"({"name":"x"})"), 403, "forbidden");
  ExpectError(Call("GET", "/api/organizations", token), 403, "forbidden");
  HttpResult own = Call("POST", "/api/webhooks", a_key, R"({"name":"a","url":"https://example.com/a","events":["*"]})");
  ASSERT_EQ(own.status, 201) << own.body;
  const std::string own_id(Json(own).at("webhook").at("id").as_string());
  ExpectError(Call("PATCH", "/api/webhooks/" + own_id, token, R"({"regenerate_secret":true})"), 403, "forbidden");
  HttpResult seen = Call("GET", "/api/webhooks/" + own_id, token);
  ASSERT_EQ(seen.status, 200);
  EXPECT_EQ(seen.body.find("secret_key"), std::string::npos) << seen.body;

  // Tampered: a changed signature, or the same signature over another organization.
  std::string tampered = token;
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  ExpectError(Call("GET", "/api/webhooks", tampered), 401, "unauthorized");
  std::string other = token;
  other.replace(other.find(a), a.size(), b);
  ExpectError(Call("GET", "/api/webhooks", other), 401, "unauthorized");
  ExpectError(Call("GET", "/api/webhooks", "ulak_portal_v1.garbage"), 401, "unauthorized");

  // Only A's key or the admin make A's links; lifetimes are bounded.
  ExpectError(Call("POST", "/api/organizations/" + a + "/portal", b_key, ""), 403, "forbidden");
  EXPECT_EQ(Call("POST", "/api/organizations/" + a + "/portal", kAdminKey, "").status, 201);
  ExpectError(Call("POST", "/api/organizations/" + a + "/portal", a_key, R"({"expires_in_s":0})"), 422,
              "validation_error");
  ExpectError(Call("POST", "/api/organizations/" + a + "/portal", a_key, R"({"expires_in_s":86401})"), 422,
              "validation_error");

  // Expired: a one-second link stops working (polled, bounded: no timing assertion).
  HttpResult short_link = Call("POST", "/api/organizations/" + a + "/portal", a_key, R"({"expires_in_s":1})");
  ASSERT_EQ(short_link.status, 201);
  const std::string short_token =
      std::string(Json(short_link).at("url").as_string()).substr(std::string("/ui/#portal=").size());
  HttpResult expired;
  for (int i = 0; i < 100; ++i) {
    expired = Call("GET", "/api/webhooks", short_token);
    if (expired.status == 401) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ExpectError(expired, 401, "unauthorized");
  EXPECT_NE(expired.body.find("expired"), std::string::npos) << expired.body;

  // Revoked: every link issued for A stops at once; new links work again.
  ASSERT_EQ(Call("DELETE", "/api/organizations/" + a + "/portal", a_key).status, 204);
  HttpResult revoked = Call("GET", "/api/webhooks", token);
  ExpectError(revoked, 401, "unauthorized");
  EXPECT_NE(revoked.body.find("revoked"), std::string::npos) << revoked.body;
  HttpResult fresh = Call("POST", "/api/organizations/" + a + "/portal", a_key, "");
  const std::string fresh_token =
      std::string(Json(fresh).at("url").as_string()).substr(std::string("/ui/#portal=").size());
  EXPECT_EQ(Call("GET", "/api/webhooks", fresh_token).status, 200);
  ExpectError(Call("DELETE", "/api/organizations/" + a + "/portal", b_key), 403, "forbidden");
}

TEST_F(UiApiE2E, InboxRecordsAnyRequestAnswersItsStatusAndKeepsItsLimits) {
  auto [org, key] = CreateOrg("inbox");
  HttpResult created = Call("POST", "/api/inboxes", key, R"({"name":"dev"})");
  ASSERT_EQ(created.status, 201) << created.body;
  const boost::json::value inbox = Json(created).at("inbox");
  const std::string id(inbox.at("id").as_string());
  EXPECT_EQ(inbox.at("url").as_string(), "/in/" + id);
  EXPECT_EQ(inbox.at("status").as_int64(), 200);

  HttpResult put = HttpRequest("PUT", server_->BaseUrl() + "/in/" + id + "?a=1&b=two", {"X-Custom: yes"}, "hello");
  EXPECT_EQ(put.status, 200);
  EXPECT_EQ(put.body, R"({"ok":true})");
  ASSERT_EQ(Call("PATCH", "/api/inboxes/" + id, key, R"({"status":503})").status, 200);
  HttpResult failing = HttpRequest("POST", server_->BaseUrl() + "/in/" + id, {}, std::string(70'000, 'x'));
  EXPECT_EQ(failing.status, 503);
  ExpectError(Call("PATCH", "/api/inboxes/" + id, key, R"({"status":99})"), 422, "validation_error");

  HttpResult list = Call("GET", "/api/inboxes/" + id + "/requests", key);
  ASSERT_EQ(list.status, 200) << list.body;
  const boost::json::value listed = Json(list);
  const auto& requests = listed.at("requests").as_array();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].at("method").as_string(), "POST");  // newest first
  EXPECT_EQ(requests[0].at("body_bytes").as_int64(), 64 * 1024);  // cut at 64 KiB
  EXPECT_EQ(requests[1].at("method").as_string(), "PUT");
  EXPECT_EQ(requests[1].at("query").as_string(), "a=1&b=two");
  EXPECT_EQ(requests[1].at("body").as_string(), "hello");
  EXPECT_EQ(requests[1].at("remote_address").as_string(), "127.0.0.1");
  bool custom = false;
  for (const auto& h : requests[1].at("headers").as_array()) {
    custom = custom || (h.as_array()[0].as_string() == "X-Custom" && h.as_array()[1].as_string() == "yes");
  }
  EXPECT_TRUE(custom);
  EXPECT_FALSE(requests[1].at("signature").at("present").as_bool());

  // At most 100 kept per inbox.
  for (int i = 0; i < 105; ++i) HttpRequest("GET", server_->BaseUrl() + "/in/" + id, {}, "");
  EXPECT_EQ(Json(Call("GET", "/api/inboxes/" + id + "/requests", key)).at("requests").as_array().size(), 100u);

  // Scoped: another organization sees none of it.
  auto [other_org, other_key] = CreateOrg("other");
  ExpectError(Call("GET", "/api/inboxes/" + id, other_key), 404, "not_found");
  ExpectError(Call("GET", "/api/inboxes/" + id + "/requests", other_key), 404, "not_found");
  ExpectError(Call("PATCH", "/api/inboxes/" + id, other_key, R"({"status":200})"), 404, "not_found");
  ExpectError(Call("DELETE", "/api/inboxes/" + id, other_key), 404, "not_found");
  EXPECT_TRUE(Json(Call("GET", "/api/inboxes", other_key)).at("inboxes").as_array().empty());
  ExpectError(HttpRequest("POST", server_->BaseUrl() + "/in/ibx_unknown", {}, "x"), 404, "not_found");
  ExpectError(Call("GET", "/api/inboxes/" + id + "/requests", ""), 401, "unauthorized");

  // At most 50 inboxes per organization.
  for (int i = 1; i < 50; ++i) ASSERT_EQ(Call("POST", "/api/inboxes", key, "{}").status, 201);
  ExpectError(Call("POST", "/api/inboxes", key, "{}"), 429, "rate_limited");
  ASSERT_EQ(Call("DELETE", "/api/inboxes/" + id, key).status, 204);
  EXPECT_EQ(Call("POST", "/api/inboxes", key, "{}").status, 201);
}

TEST_F(UiApiE2E, InboxChecksTheSignatureOfAWebhookOfItsOrganization) {
  auto [org, key] = CreateOrg("sig");
  const std::string inbox = CreateInbox(key);
  const std::string webhook = CreateWebhookTo(key, inbox);
  HttpResult test = Call("POST", "/api/webhooks/test", key, R"({"webhook_config_id":")" + webhook + R"("})");
  ASSERT_EQ(test.status, 200) << test.body;
  // A forged request with a made-up signature.
  HttpRequest("POST", server_->BaseUrl() + "/in/" + inbox, {"X-Webhook-Signature: " + std::string(64, 'a')}, "{}");
  const auto requests = Json(Call("GET", "/api/inboxes/" + inbox + "/requests", key)).at("requests").as_array();
  ASSERT_EQ(requests.size(), 2u);
  const auto& forged = requests[0].at("signature");
  EXPECT_TRUE(forged.at("present").as_bool());
  EXPECT_FALSE(forged.at("valid").as_bool());
  const auto& real = requests[1].at("signature");
  EXPECT_TRUE(real.at("valid").as_bool()) << boost::json::serialize(real);
  EXPECT_TRUE(real.at("x_webhook_signature_valid").as_bool());
  EXPECT_TRUE(real.at("standard_signature_valid").as_bool());
  EXPECT_EQ(real.at("webhook_config_id").as_string(), webhook);
}

TEST_F(UiApiE2E, UiIsServedWithStrictSecurityHeaders) {
  HttpResult root = HttpRequest("GET", server_->BaseUrl() + "/", {}, "");
  EXPECT_EQ(root.status, 302);
  EXPECT_EQ(root.Header("Location"), "/ui/");
  for (const char* path : {"/ui/", "/ui/app.js", "/ui/app.css"}) {
    SCOPED_TRACE(path);
    HttpResult r = HttpRequest("GET", server_->BaseUrl() + path, {}, "");
    EXPECT_EQ(r.status, 200);
    const std::string csp = r.Header("Content-Security-Policy");
    EXPECT_NE(csp.find("default-src 'self'"), std::string::npos) << csp;
    EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
    EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
    EXPECT_EQ(csp.find("unsafe"), std::string::npos) << csp;
    EXPECT_EQ(r.Header("X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(r.Header("Referrer-Policy"), "no-referrer");
  }
  const HttpResult index = HttpRequest("GET", server_->BaseUrl() + "/ui/", {}, "");
  EXPECT_NE(index.body.find(R"(<script type="module" src="/ui/app.js">)"), std::string::npos);
  // Nothing from elsewhere: every src/href is a path of this server.
  EXPECT_EQ(index.body.find("http"), std::string::npos) << index.body;
  EXPECT_EQ(HttpRequest("GET", server_->BaseUrl() + "/ui/missing.js", {}, "").status, 404);
}

}  // namespace
}  // namespace ulak::testing
