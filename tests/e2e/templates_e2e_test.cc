// End-to-end tests of CRM templates (issue 12): the real `ulak serve` delivers to local sinks
// on 127.0.0.1 standing in for each CRM's API (records kept by external id) and for an OAuth
// 2.0 token endpoint whose tokens expire after 2 s.
//
// Timing: waits poll with generous timeouts; nothing asserts speed. The OAuth test runs for
// about 6 s of real time because its tokens really expire.
#include <signal.h>

#include <boost/json/serialize.hpp>

#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "e2e/server_fixture.h"
#include "support/independent_crypto.h"
#include "support/sink.h"

namespace ulak::testing {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

bool Contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }
std::string Str(const json::value& v) { return v.is_string() ? std::string(v.as_string()) : std::string(); }

json::value ParseOrNull(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  return ec ? json::value(nullptr) : v;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Seed 001's example order, with the status and event type given.
json::object Order(const std::string& status, const std::string& order_number = "ORD-20240102-1234") {
  return json::parse(R"({"id": "order-uuid", "order_number": ")" + order_number + R"(",
    "items": [{"menu_item_id": "uuid", "name": "Margherita Pizza", "quantity": 2, "price": 89.90,
               "notes": "Extra peynir"}],
    "total_amount": 179.80, "status": ")" + status + R"(", "customer_name": "Ahmet Yılmaz",
    "customer_notes": "Acele etmeyin", "table_id": "uuid", "created_at": "2024-01-02T10:30:00Z"})")
      .as_object();
}

// A stand-in for Salesforce, HubSpot and Zoho at once: records per CRM keyed by the external
// id of their upsert paths; plain creates add a record each. Optionally requires a Bearer
// token from `valid_token`.
class FakeCrm {
 public:
  std::function<bool(const std::string& authorization)> valid_token;
  int fail_first_with = 0;  // answer the first request with this status (after applying it)

  SinkResponse Handle(const SinkRequest& r) {
    std::lock_guard lock(mu_);
    if (valid_token && !valid_token(r.Header("Authorization"))) return {401, R"([{"errorCode":"INVALID_SESSION_ID"}])"};
    const json::value body = ParseOrNull(r.body);
    const std::string sf_upsert = "/services/data/v58.0/sobjects/Order__c/Order_Number__c/";
    if (r.method == "PATCH" && r.path.rfind(sf_upsert, 0) == 0) {
      records_["salesforce"][r.path.substr(sf_upsert.size())] = body;
    } else if (r.method == "POST" && r.path == "/services/data/v58.0/sobjects/Order__c/") {
      records_["salesforce"]["#" + std::to_string(records_["salesforce"].size())] = body;
    } else if (r.method == "POST" && r.path == "/crm/v3/objects/deals/batch/upsert") {
      const json::value& input = body.at("inputs").at(0);
      records_["hubspot"][Str(input.at("id"))] = input.at("properties");
    } else if (r.method == "POST" && r.path == "/crm/v3/Deals/upsert") {
      records_["zoho"][Str(body.at("data").at(0).at("Deal_Name"))] = body.at("data").at(0);
    } else if (r.method == "POST" && r.path == "/crm/v3/Deals") {
      records_["zoho"]["#" + std::to_string(records_["zoho"].size())] = body.at("data").at(0);
    } else if (r.method == "POST" && r.path == "/crm/v3/objects/deals") {
      records_["hubspot"]["#" + std::to_string(records_["hubspot"].size())] = body.at("properties");
    } else {
      return {404, R"({"error":"no such path"})"};
    }
    if (fail_first_with != 0 && ++answered_ == 1) return {fail_first_with, R"({"error":"try again"})"};
    return {r.method == "PATCH" ? 204 : 200, R"({"id":"rec-1","success":true})"};
  }

  std::map<std::string, json::value> Records(const std::string& crm) {
    std::lock_guard lock(mu_);
    return records_[crm];
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::map<std::string, json::value>> records_;
  int answered_ = 0;
};

// An OAuth 2.0 token endpoint (RFC 6749 §6) issuing tokens that expire after 2 s.
class FakeTokenEndpoint {
 public:
  bool announce_expiry = true;  // false: no expires_in, as Salesforce answers
  bool refuse = false;          // answer invalid_grant

  SinkResponse Handle(const SinkRequest& r) {
    std::lock_guard lock(mu_);
    ++refreshes_;
    if (r.Header("Content-Type") != "application/x-www-form-urlencoded" ||
        !Contains(r.body, "grant_type=refresh_token") || !Contains(r.body, "refresh_token=refresh-e2e") ||
        !Contains(r.body, "client_secret=client-secret-e2e")) {
      return {400, R"({"error":"invalid_request"})"};
    }
    if (refuse) return {400, R"({"error":"invalid_grant","error_description":"token revoked"})"};
    const std::string token = "tok-e2e-" + std::to_string(refreshes_);
    issued_[token] = std::chrono::steady_clock::now();
    return {200, R"({"access_token":")" + token + R"(","token_type":"Bearer")" +
                     (announce_expiry ? R"(,"expires_in":2})" : "}")};
  }

  // "Bearer <token>" of a token issued less than 2 s ago.
  bool Valid(const std::string& authorization) {
    std::lock_guard lock(mu_);
    if (authorization.rfind("Bearer ", 0) != 0) return false;
    auto it = issued_.find(authorization.substr(7));
    return it != issued_.end() && std::chrono::steady_clock::now() - it->second < 2s;
  }

  int Refreshes() {
    std::lock_guard lock(mu_);
    return refreshes_;
  }

 private:
  std::mutex mu_;
  int refreshes_ = 0;
  std::map<std::string, std::chrono::steady_clock::time_point> issued_;
};

class TemplatesE2E : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    std::tie(org_id_, org_key_) = CreateOrg("Kebab House");
    sink_.SetHandler([this](const SinkRequest& r) {
      if (r.path == "/oauth/token") return tokens_.Handle(r);
      return crm_.Handle(r);
    });
  }

  // Creates a webhook; returns {id, secret_key}.
  std::pair<std::string, std::string> CreateWebhook(json::object body) {
    body["organization_id"] = org_id_;
    if (!body.contains("name")) body["name"] = "CRM";
    if (!body.contains("events")) body["events"] = json::array{"order.*"};
    HttpResult r = Call("POST", "/api/webhooks", org_key_, json::serialize(body));
    EXPECT_EQ(r.status, 201) << r.body;
    json::value v = Json(r);
    if (!v.is_object()) return {};
    return {Str(v.at("webhook").at("id")), Str(v.at("webhook").at("secret_key"))};
  }

  void Publish(const std::string& type, json::object data) {
    json::object body{{"organization_id", org_id_}, {"event", type}, {"data", std::move(data)},
                      {"metadata", {{"table_number", "12"}}}};
    HttpResult r = Call("POST", "/api/events", org_key_, json::serialize(body));
    EXPECT_EQ(r.status, 202) << r.body;
  }

  json::value Logs(const std::string& webhook_id) {
    return Json(Call("GET", "/api/webhooks/logs?limit=1000&organization_id=" + org_id_ + "&webhook_config_id=" +
                                webhook_id, org_key_));
  }

  // Waits until the webhook has `n` successful attempts.
  bool WaitForSuccesses(const std::string& webhook_id, int64_t n, std::chrono::seconds timeout = 30s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      json::value logs = Logs(webhook_id);
      if (logs.is_object() && logs.at("stats").at("success").as_int64() >= n) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }

  std::string org_id_, org_key_;
  FakeCrm crm_;
  FakeTokenEndpoint tokens_;
  HttpSink sink_;
};

TEST_F(TemplatesE2E, LibraryListsTheTemplatesWithParamsAndExamples) {
  HttpResult r = Call("GET", "/api/templates", org_key_);
  ASSERT_EQ(r.status, 200) << r.body;
  json::value v = Json(r);
  std::vector<std::string> names;
  for (const auto& t : v.at("templates").as_array()) {
    names.push_back(Str(t.at("name")));
    EXPECT_FALSE(Str(t.at("description")).empty());
    EXPECT_TRUE(t.at("params").is_array());
    for (const auto& p : t.at("params").as_array()) {
      for (const char* key : {"name", "type", "required", "default"}) EXPECT_TRUE(p.as_object().contains(key)) << p;
    }
    EXPECT_TRUE(t.as_object().contains("example_body")) << t;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"salesforce", "hubspot", "zoho", "n8n", "custom"}));
  EXPECT_EQ(v.at("templates").at(1).at("example_body"),
            json::parse(R"({"properties": {"dealname": "ORD-20240102-1234", "amount": "179.80",
                "dealstage": "appointmentscheduled"}})"));
  ExpectError(Call("GET", "/api/templates", ""), 401, "unauthorized");
}

TEST_F(TemplatesE2E, PreviewRendersWithoutSending) {
  json::object body{{"params", {{"status_map", {{"pending", "Pending"}}}}},
                    {"url", "https://acme.my.salesforce.com"},
                    {"event", {{"event", "order.created"}, {"data", Order("pending")}, {"metadata", json::object()}}}};
  HttpResult r = Call("POST", "/api/templates/salesforce/preview", org_key_, json::serialize(body));
  ASSERT_EQ(r.status, 200) << r.body;
  json::value v = Json(r);
  const json::value& req = v.at("request");
  EXPECT_EQ(Str(req.at("method")), "POST");
  EXPECT_EQ(Str(req.at("url")), "https://acme.my.salesforce.com/services/data/v58.0/sobjects/Order__c/");
  EXPECT_EQ(Str(req.at("headers").at("Authorization")), "Bearer [redacted]");
  EXPECT_EQ(req.at("body"), json::parse(R"({"Name": "ORD-20240102-1234", "Amount__c": 179.80,
      "Status__c": "Pending", "Customer_Name__c": "Ahmet Yılmaz"})"));
  HttpResult zoho = Call("POST", "/api/templates/zoho/preview", org_key_, R"({"params": {"upsert": true}})");
  ASSERT_EQ(zoho.status, 200) << zoho.body;
  EXPECT_EQ(Str(Json(zoho).at("request").at("url")), "https://www.zohoapis.com/crm/v3/Deals/upsert");
  EXPECT_EQ(sink_.Count(), 0u);

  ExpectError(Call("POST", "/api/templates/pipedrive/preview", org_key_, "{}"), 404, "not_found");
  HttpResult bad = Call("POST", "/api/templates/hubspot/preview", org_key_, R"({"params": {"stage_map": 3}})");
  ExpectError(bad, 422, "validation_error");
  EXPECT_TRUE(Contains(bad.body, "template.params.stage_map")) << bad.body;
}

TEST_F(TemplatesE2E, BadTemplateInputIs422AndStoresNothing) {
  const std::string list = "/api/webhooks?organization_id=" + org_id_;
  auto expect_invalid = [&](const std::string& template_json, const std::string& field) {
    json::object body{{"organization_id", org_id_}, {"name", "CRM"}, {"url", sink_.Url("")},
                      {"events", json::array{"order.*"}}, {"template", json::parse(template_json)}};
    HttpResult r = Call("POST", "/api/webhooks", org_key_, json::serialize(body));
    ExpectError(r, 422, "validation_error");
    EXPECT_TRUE(Contains(r.body, field)) << "message does not name " << field << ": " << r.body;
  };
  expect_invalid(R"({"name": "pipedrive"})", "template.name");
  expect_invalid(R"({"name": "salesforce", "params": {"status_map": ["Pending"]}})", "template.params.status_map");
  expect_invalid(R"({"name": "salesforce", "params": {"colour": "red"}})", "template.params.colour");
  expect_invalid(R"({"name": "salesforce", "params": {"upsert": 1}})", "template.params.upsert");
  expect_invalid(R"({"name": "n8n", "auth": {"access_token": "t"}})", "template.auth");
  expect_invalid(R"({"name": "zoho", "auth": {"refresh_token": "r"}})", "template.auth.client_id");
  expect_invalid(R"({"name": "zoho", "auth": {"api_key": "k"}})", "template.auth.api_key");
  // Salesforce has no default instance: its url is required.
  HttpResult no_url = Call("POST", "/api/webhooks", org_key_,
                           json::serialize(json::object{{"organization_id", org_id_}, {"name", "SF"},
                                                        {"events", json::array{"order.*"}},
                                                        {"template", {{"name", "salesforce"}}}}));
  ExpectError(no_url, 422, "validation_error");
  EXPECT_TRUE(Contains(no_url.body, "url")) << no_url.body;
  EXPECT_EQ(Json(Call("GET", list, org_key_)).at("webhooks").as_array().size(), 0u);

  // A PATCH with a bad template changes nothing either.
  auto [id, secret] = CreateWebhook({{"url", sink_.Url("")}, {"template", {{"name", "hubspot"}}}});
  const std::string before = Call("GET", "/api/webhooks/" + id, org_key_).body;
  ExpectError(Call("PATCH", "/api/webhooks/" + id, org_key_, R"({"name": "x", "template": {"name": "zoho",
      "params": {"stage_map": {"a": 1}}}})"), 422, "validation_error");
  EXPECT_EQ(Call("GET", "/api/webhooks/" + id, org_key_).body, before);
}

TEST_F(TemplatesE2E, DefaultUrlsAndGetShowsOnlyThatCredentialsAreConfigured) {
  auto [hub, s1] = CreateWebhook({{"template", {{"name", "hubspot"}, {"auth", {{"access_token", "pat-secret-1"}}}}}});
  auto [zoho, s2] = CreateWebhook({{"url", "https://www.zohoapis.eu"},
                                   {"template", {{"name", "zoho"}, {"auth", {{"refresh_token", "refresh-e2e"},
                                                                              {"client_id", "cid"},
                                                                              {"client_secret", "client-secret-e2e"}}}}}});
  json::value h = Json(Call("GET", "/api/webhooks/" + hub, org_key_)).at("webhook");
  EXPECT_EQ(Str(h.at("url")), "https://api.hubapi.com");
  EXPECT_EQ(h.at("template"), json::parse(R"({"name": "hubspot", "params": {},
      "auth": {"configured": true, "kind": "access_token"}})"));
  json::value z = Json(Call("GET", "/api/webhooks/" + zoho, org_key_)).at("webhook");
  EXPECT_EQ(Str(z.at("url")), "https://www.zohoapis.eu");
  EXPECT_EQ(z.at("template").at("auth"), json::parse(R"({"configured": true, "kind": "oauth2"})"));
  // A PATCH of params keeps the credentials; template: null removes the template.
  HttpResult p = Call("PATCH", "/api/webhooks/" + zoho, org_key_, R"({"template": {"name": "zoho",
      "params": {"upsert": true}}})");
  ASSERT_EQ(p.status, 200) << p.body;
  EXPECT_EQ(Json(p).at("webhook").at("template").at("auth").at("kind"), json::value("oauth2"));
  HttpResult cleared = Call("PATCH", "/api/webhooks/" + hub, org_key_, R"({"template": null})");
  EXPECT_TRUE(Json(cleared).at("webhook").at("template").is_null()) << cleared.body;
  for (const std::string& path : {"/api/webhooks/" + hub, "/api/webhooks/" + zoho,
                                  "/api/webhooks?organization_id=" + org_id_}) {
    const std::string body = Call("GET", path, org_key_).body;
    EXPECT_FALSE(Contains(body, "pat-secret-1")) << body;
    EXPECT_FALSE(Contains(body, "client-secret-e2e")) << body;
    EXPECT_FALSE(Contains(body, "refresh-e2e")) << body;
  }
  const std::string db = ReadAll(DbPath()) + ReadAll(DbPath() + "-wal");
  for (const char* secret : {"pat-secret-1", "client-secret-e2e", "refresh-e2e"}) {
    EXPECT_FALSE(Contains(db, secret)) << secret << " in the database file";
  }
}

// Create, update and cancel of one order with upsert: one record per CRM, the request as each
// CRM expects it, signed over the bytes sent; the attempt log shows what was sent.
TEST_F(TemplatesE2E, UpsertsLandOnOneRecordPerCrm) {
  const json::object status_map{{"pending", "Pending"}, {"preparing", "Preparing"}, {"cancelled", "Cancelled"}};
  auto [sf, sf_secret] = CreateWebhook({{"url", sink_.Url("")}, {"max_in_flight", 1},
                                        {"custom_headers", {{"X-Tenant", "kebab"}}},
                                        {"template", {{"name", "salesforce"},
                                                      {"params", {{"upsert", true}, {"status_map", status_map}}},
                                                      {"auth", {{"access_token", "sf-token"}}}}}});
  auto [hub, hub_secret] = CreateWebhook({{"url", sink_.Url("/")}, {"max_in_flight", 1},
                                          {"template", {{"name", "hubspot"},
                                                        {"params", {{"upsert", true},
                                                                    {"stage_map", {{"cancelled", "closedlost"}}}}},
                                                        {"auth", {{"access_token", "hub-token"}}}}}});
  auto [zoho, zoho_secret] = CreateWebhook({{"url", sink_.Url("")}, {"max_in_flight", 1},
                                            {"template", {{"name", "zoho"}, {"params", {{"upsert", true}}},
                                                          {"auth", {{"access_token", "zoho-token"}}}}}});
  Publish("order.created", Order("pending"));
  Publish("order.updated", Order("preparing"));
  Publish("order.cancelled", Order("cancelled"));
  for (const std::string& id : {sf, hub, zoho}) ASSERT_TRUE(WaitForSuccesses(id, 3)) << Logs(id);

  for (const char* crm : {"salesforce", "hubspot", "zoho"}) {
    EXPECT_EQ(crm_.Records(crm).size(), 1u) << crm;
  }
  EXPECT_EQ(crm_.Records("salesforce").at("ORD-20240102-1234"),
            json::parse(R"({"Name": "ORD-20240102-1234", "Amount__c": 179.80, "Status__c": "Cancelled",
                "Customer_Name__c": "Ahmet Yılmaz"})"));
  EXPECT_EQ(crm_.Records("hubspot").at("ORD-20240102-1234"),
            json::parse(R"({"dealname": "ORD-20240102-1234", "amount": "179.80", "dealstage": "closedlost"})"));
  EXPECT_EQ(crm_.Records("zoho").at("ORD-20240102-1234"),
            json::parse(R"({"Deal_Name": "ORD-20240102-1234", "Amount": 179.80, "Stage": "Qualification"})"));

  // Headers: the CRM's auth scheme, the custom header, both signatures over the bytes sent.
  std::map<std::string, std::pair<std::string, std::string>> expect{
      {"/services/data/v58.0/sobjects/Order__c/Order_Number__c/ORD-20240102-1234", {"Bearer sf-token", sf_secret}},
      {"/crm/v3/objects/deals/batch/upsert", {"Bearer hub-token", hub_secret}},
      {"/crm/v3/Deals/upsert", {"Zoho-oauthtoken zoho-token", zoho_secret}}};
  for (const SinkRequest& r : sink_.Requests()) {
    auto it = expect.find(r.path);
    ASSERT_NE(it, expect.end()) << r.path;
    EXPECT_EQ(r.Header("Authorization"), it->second.first);
    EXPECT_EQ(r.Header("Content-Type"), "application/json");
    EXPECT_EQ(r.Header("X-Webhook-Signature"), SeedSignature(it->second.second, r.body));
    EXPECT_TRUE(Contains(r.Header("webhook-signature"),
                         StandardSignature(it->second.second, r.Header("webhook-id"), r.Header("webhook-timestamp"),
                                           r.body)));
    if (r.method == "PATCH") {
      EXPECT_EQ(r.Header("X-Tenant"), "kebab");
    }
  }
  // The attempt log records the method, URL and body actually sent.
  json::value logs = Logs(sf);
  const json::value& last = logs.at("logs").at(0);
  EXPECT_EQ(Str(last.at("request_method")), "PATCH");
  EXPECT_EQ(Str(last.at("request_url")),
            sink_.Url("/services/data/v58.0/sobjects/Order__c/Order_Number__c/ORD-20240102-1234"));
  EXPECT_EQ(last.at("request_body").at("Status__c"), json::value("Cancelled"));
}

// The CRM applies the first try but answers 500; the retry upserts the same record.
TEST_F(TemplatesE2E, A500ThenARetryReachTheRecordOnce) {
  crm_.fail_first_with = 500;
  auto [sf, secret] = CreateWebhook({{"url", sink_.Url("")}, {"retry_policy", {{"kind", "custom"}, {"delays_s", {1}}}},
                                     {"template", {{"name", "salesforce"}, {"params", {{"upsert", true}}}}}});
  Publish("order.created", Order("pending"));
  ASSERT_TRUE(WaitForSuccesses(sf, 1)) << Logs(sf);
  EXPECT_EQ(sink_.Count(), 2u);
  EXPECT_EQ(crm_.Records("salesforce").size(), 1u);
  const json::value logs = Logs(sf);
  EXPECT_EQ(logs.at("stats").at("retrying").as_int64(), 1) << logs;
}

// Tokens expire after 2 s; deliveries over ~6 s all succeed with one refresh per expiry. Run
// twice: announced expiry (expires_in: 2) and unannounced (only the CRM's 401 reveals it).
TEST_F(TemplatesE2E, OAuthTokensRefreshOncePerExpiryNotPerDelivery) {
  crm_.valid_token = [this](const std::string& authorization) { return tokens_.Valid(authorization); };
  for (bool announce : {true, false}) {
    SCOPED_TRACE(announce ? "expires_in announced" : "expiry found by a 401");
    tokens_.announce_expiry = announce;
    const int refreshes_before = tokens_.Refreshes();
    auto [id, secret] = CreateWebhook(
        {{"url", sink_.Url("")}, {"max_in_flight", 4}, {"retry_enabled", false},
         {"template", {{"name", "hubspot"}, {"params", {{"upsert", true}}},
                       {"auth", {{"refresh_token", "refresh-e2e"}, {"client_id", "client-e2e"},
                                 {"client_secret", "client-secret-e2e"},
                                 {"token_url", sink_.Url("/oauth/token")}}}}}});
    const auto start = std::chrono::steady_clock::now();
    int published = 0;
    while (std::chrono::steady_clock::now() - start < 6s) {
      for (int burst = 0; burst < 3; ++burst) {  // concurrent deliveries share a token
        Publish("order.updated", Order("pending", "ORD-" + std::to_string(published++)));
      }
      std::this_thread::sleep_for(300ms);
    }
    ASSERT_TRUE(WaitForSuccesses(id, published)) << Logs(id);
    const json::value logs = Logs(id);
    EXPECT_EQ(logs.at("stats").at("failed").as_int64(), 0) << logs;
    const int refreshes = tokens_.Refreshes() - refreshes_before;
    // ~6 s of 2 s tokens: 3 or 4 expiries (plus one at most for a race at an expiry), far
    // fewer than the deliveries.
    EXPECT_GE(refreshes, 3);
    EXPECT_LE(refreshes, 6) << published << " deliveries";
    EXPECT_GT(published, 3 * refreshes);
    (void)Call("DELETE", "/api/webhooks/" + id, org_key_);
  }
  // Credentials and tokens are nowhere: not in the database file, not in logs, not in a GET.
  const std::string db = ReadAll(DbPath()) + ReadAll(DbPath() + "-wal");
  const std::string logs = server_->Stdout() + server_->Stderr();
  for (const std::string& secret : {std::string("client-secret-e2e"), std::string("refresh-e2e"),
                                    std::string("tok-e2e-")}) {
    EXPECT_FALSE(Contains(db, secret)) << secret << " in the database file";
    EXPECT_FALSE(Contains(logs, secret)) << secret << " in the logs";
    for (const std::string& path : {"/api/webhooks?organization_id=" + org_id_,
                                    "/api/webhooks/logs?organization_id=" + org_id_}) {
      EXPECT_FALSE(Contains(Call("GET", path, org_key_).body, secret)) << secret << " in GET " << path;
    }
  }
}

TEST_F(TemplatesE2E, RefreshAnsweringInvalidGrantFailsTheAttemptWithThatCode) {
  tokens_.refuse = true;
  auto [id, secret] = CreateWebhook({{"url", sink_.Url("")}, {"retry_enabled", false},
                                     {"template", {{"name", "salesforce"},
                                                   {"auth", {{"refresh_token", "refresh-e2e"}, {"client_id", "c"},
                                                             {"client_secret", "client-secret-e2e"},
                                                             {"token_url", sink_.Url("/oauth/token")}}}}}});
  HttpResult r = Call("POST", "/api/webhooks/test", org_key_, R"({"webhook_config_id":")" + id + "\"}");
  ASSERT_EQ(r.status, 200) << r.body;
  json::value v = Json(r);
  EXPECT_FALSE(v.at("success").as_bool());
  EXPECT_TRUE(Contains(Str(v.at("message")), "invalid_grant")) << r.body;
  Publish("order.created", Order("pending"));
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  json::value logs;
  while (std::chrono::steady_clock::now() < deadline) {
    logs = Logs(id);
    if (logs.at("stats").at("failed").as_int64() >= 2) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(logs.at("stats").at("failed").as_int64(), 2) << logs;
  for (const auto& a : logs.at("logs").as_array()) {
    EXPECT_TRUE(Contains(Str(a.at("error_message")), "OAuth token refresh failed: invalid_grant")) << a;
    EXPECT_FALSE(Contains(json::serialize(a), "client-secret-e2e"));
  }
  // Nothing reached the CRM: only the token endpoint was asked.
  for (const SinkRequest& req : sink_.Requests()) EXPECT_EQ(req.path, "/oauth/token");
}

// The token URL passes the same SSRF guard as delivery URLs: with nothing private allowed, a
// token endpoint on 127.0.0.1 is never asked.
TEST_F(TemplatesE2E, TokenUrlPassesTheSsrfGuard) {
  ASSERT_EQ(server_->StopWith(SIGTERM), 0) << server_->Stderr();
  ASSERT_NO_FATAL_FAILURE(Start({"ULAK_ADMIN_KEY=" + kAdminKey, "ULAK_ALLOWED_NETWORKS="}));
  auto [id, secret] = CreateWebhook({{"url", "https://api.hubapi.com"}, {"retry_enabled", false},
                                     {"template", {{"name", "hubspot"},
                                                   {"auth", {{"refresh_token", "refresh-e2e"}, {"client_id", "c"},
                                                             {"client_secret", "client-secret-e2e"},
                                                             {"token_url", sink_.Url("/oauth/token")}}}}}});
  HttpResult r = Call("POST", "/api/webhooks/test", org_key_, R"({"webhook_config_id":")" + id + "\"}");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(Contains(Str(Json(r).at("message")), "OAuth token refresh failed: blocked")) << r.body;
  EXPECT_EQ(tokens_.Refreshes(), 0);
  EXPECT_EQ(sink_.Count(), 0u);
}

TEST_F(TemplatesE2E, N8nTestSendCarriesHeaderSecretAndSeed000Body) {
  auto [id, secret] = CreateWebhook({{"url", sink_.Url("/webhook/orders")},
                                     {"template", {{"name", "n8n"}, {"params", {{"secret", "n8n-header-secret"}}}}}});
  sink_.SetBehaviour("/webhook/orders", SinkBehaviour::Statuses({200}));
  HttpResult r = Call("POST", "/api/webhooks/test", org_key_, R"({"webhook_config_id":")" + id + "\"}");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(Json(r).at("success").as_bool()) << r.body;
  ASSERT_EQ(sink_.Count("/webhook/orders"), 1u);
  const SinkRequest req = sink_.Requests("/webhook/orders").at(0);
  EXPECT_EQ(req.Header("X-Webhook-Secret"), "n8n-header-secret");
  EXPECT_EQ(req.Header("X-Webhook-Signature"), SeedSignature(secret, req.body));
  const json::value body = json::parse(req.body);
  EXPECT_EQ(body.as_object().size(), 3u) << req.body;
  EXPECT_EQ(Str(body.at("event")), "webhook.test");
  EXPECT_EQ(Str(body.at("data").at("order_number")), "ORD-20240102-1234");
  const std::string got = Call("GET", "/api/webhooks/" + id, org_key_).body;
  EXPECT_FALSE(Contains(got, "n8n-header-secret")) << got;
  EXPECT_EQ(Json(Call("GET", "/api/webhooks/" + id, org_key_)).at("webhook").at("template"),
            json::parse(R"({"name": "n8n", "params": {}, "auth": {"configured": true, "kind": "secret"}})"));
  EXPECT_FALSE(Contains(ReadAll(DbPath()) + ReadAll(DbPath() + "-wal"), "n8n-header-secret"));
}

}  // namespace
}  // namespace ulak::testing
