// End-to-end tests of delivery shaping (issue 13, SPEC §7) through the real `ulak serve`:
// numbers delivered as published, filters at publish, field selection and Lua transforms at
// send time, the webhook API's new fields, and the two try-it endpoints.
#include <boost/json/serialize.hpp>

#include <chrono>
#include <functional>
#include <thread>

#include "e2e/server_fixture.h"
#include "support/independent_crypto.h"
#include "support/sink.h"

namespace ulak::testing {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

bool Contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

class ShapingE2E : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    if (HasFatalFailure()) return;
    std::tie(org_id_, org_key_) = CreateOrg("Pizza Place");
  }

  // Creates a webhook from `extra` (merged into a basic body); returns {id, secret_key}.
  std::pair<std::string, std::string> CreateWebhook(const std::string& path, json::object extra = {}) {
    json::object body{{"organization_id", org_id_}, {"name", "hook " + path}, {"url", sink_.Url(path)},
                      {"events", json::array{"order.*"}}};
    for (auto& [k, v] : extra) body[k] = v;
    HttpResult r = Call("POST", "/api/webhooks", org_key_, json::serialize(body));
    EXPECT_EQ(r.status, 201) << r.body;
    json::value v = Json(r);
    if (r.status != 201) return {};
    return {std::string(v.at("webhook").at("id").as_string()), std::string(v.at("webhook").at("secret_key").as_string())};
  }

  HttpResult PublishRaw(const std::string& event, const std::string& data_json) {
    return Call("POST", "/api/events", org_key_,
                R"({"organization_id":")" + org_id_ + R"(","event":")" + event + R"(","data":)" + data_json + "}");
  }

  std::string LogsBody(const std::string& webhook_id) {
    for (int i = 0; i < 200; ++i) {
      HttpResult r = Call("GET", "/api/webhooks/logs?organization_id=" + org_id_ + "&webhook_config_id=" + webhook_id,
                          org_key_);
      if (r.status == 200 && !Json(r).at("logs").as_array().empty()) return r.body;
      std::this_thread::sleep_for(100ms);
    }
    ADD_FAILURE() << "no log for " << webhook_id;
    return "";
  }

  static void ExpectSigned(const SinkRequest& r, const std::string& secret) {
    EXPECT_EQ(r.Header("X-Webhook-Signature"), SeedSignature(secret, r.body));
    EXPECT_EQ(r.Header("webhook-signature"),
              StandardSignature(secret, r.Header("webhook-id"), r.Header("webhook-timestamp"), r.body));
  }

  std::string org_id_;
  std::string org_key_;
  HttpSink sink_;
};

TEST_F(ShapingE2E, NumbersAreDeliveredAsPublished) {
  auto [id, secret] = CreateWebhook("/plain");
  const std::string data =
      R"({"order_number":"ORD-2025-001","items":[{"name":"Margherita Pizza","quantity":2,"price":89.90}],)"
      R"("total_amount":179.80,"id":12345678901234567890,"rate":0.1,"tiny":1e-7,"neg":-0,"huge":1.5e300,)"
      R"("long":123456789012345678901234567890,"pi":3.14159265358979323846264338327950288})";
  HttpResult published = PublishRaw("order.created", data);
  ASSERT_EQ(published.status, 202) << published.body;
  ASSERT_TRUE(sink_.WaitForCount("/plain", 1));
  const SinkRequest r = sink_.Requests("/plain").at(0);
  const std::string expected =
      R"("data":{"order_number":"ORD-2025-001","items":[{"name":"Margherita Pizza","quantity":2,"price":89.9}],)"
      R"("total_amount":179.8,"id":12345678901234567890,"rate":0.1,"tiny":1e-7,"neg":0,"huge":1.5e+300,)"
      R"("long":123456789012345678901234567890,"pi":3.14159265358979323846264338327950288},"metadata":{}})";
  EXPECT_TRUE(Contains(r.body, expected)) << r.body;
  ExpectSigned(r, secret);
  // The attempt log shows the same numbers.
  EXPECT_TRUE(Contains(LogsBody(id), expected.substr(0, expected.size() - 1))) << LogsBody(id);

  // Out of a double's range: refused with the path, never delivered as Infinity.
  HttpResult inf = PublishRaw("order.created", R"({"items":[{"price":1},{"price":1e999}]})");
  ExpectError(inf, 422, "validation_error");
  EXPECT_TRUE(Contains(inf.body, "data.items[1].price")) << inf.body;
  HttpResult digits = PublishRaw("order.created", "{\"n\":1" + std::string(5000, '0') + "}");
  ExpectError(digits, 422, "validation_error");
  EXPECT_TRUE(Contains(digits.body, "data.n")) << digits.body;

  // ulak's own answers write numbers the same way.
  HttpResult patched = Call("PATCH", "/api/webhooks/" + id, org_key_,
                            R"({"retry_policy":{"kind":"exponential","initial_s":1,"multiplier":2.5,"max_delay_s":60}})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_TRUE(Contains(patched.body, R"("initial_s":1,"multiplier":2.5,"max_delay_s":60)")) << patched.body;
  EXPECT_FALSE(Contains(patched.body, "E0")) << patched.body;
}

TEST_F(ShapingE2E, IncomingSourcesKeepDigitsAndRefuseNumbersOutOfRange) {
  CreateWebhook("/from-github", {{"events", json::array{"*"}}});
  HttpResult created = Call("POST", "/api/sources", org_key_,
                            R"({"organization_id":")" + org_id_ + R"(","name":"gh","provider":"github","secrets":["gh-secret"]})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string source = std::string(Json(created).at("source").at("id").as_string());
  auto send = [&](const std::string& body, const std::string& delivery) {
    return HttpRequest("POST", server_->BaseUrl() + "/api/incoming/" + source,
                       {"Content-Type: application/json", "X-GitHub-Event: issues", "X-GitHub-Delivery: " + delivery,
                        "X-Hub-Signature-256: sha256=" + HexEncode(HmacSha256("gh-secret", body))},
                       body);
  };
  HttpResult ok = send(R"({"action":"opened","amount":179.80,"id":123456789012345678901234567890})", "d1");
  ASSERT_EQ(ok.status, 200) << ok.body;
  ASSERT_TRUE(sink_.WaitForCount("/from-github", 1));
  EXPECT_TRUE(Contains(sink_.Requests("/from-github").at(0).body,
                       R"("amount":179.8,"id":123456789012345678901234567890)"))
      << sink_.Requests("/from-github").at(0).body;
  HttpResult inf = send(R"({"action":"opened","issue":{"number":1e999}})", "d2");
  ExpectError(inf, 422, "validation_error");
  EXPECT_TRUE(Contains(inf.body, "issue.number")) << inf.body;
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(sink_.Count("/from-github"), 1u);
}

TEST_F(ShapingE2E, FilteredOutEventCreatesNoDelivery) {
  CreateWebhook("/big", {{"filter", json::parse(R"({"$and":[{"data.status":"pending"},{"data.total_amount":{"$gte":100}}]})")}});
  HttpResult small = PublishRaw("order.created", R"({"status":"pending","total_amount":50})");
  ASSERT_EQ(small.status, 202) << small.body;
  EXPECT_EQ(Json(small).at("deliveries"), json::value(0));
  EXPECT_EQ(Json(small).at("filtered"), json::value(1));
  HttpResult big = PublishRaw("order.created", R"({"status":"pending","total_amount":179.80})");
  ASSERT_EQ(big.status, 202) << big.body;
  EXPECT_EQ(Json(big).at("deliveries"), json::value(1));
  EXPECT_EQ(Json(big).at("filtered"), json::value(0));
  ASSERT_TRUE(sink_.WaitForCount("/big", 1));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(sink_.Count("/big"), 1u);
  EXPECT_TRUE(Contains(Call("GET", "/metrics", "").body, "ulak_deliveries_filtered_total 1"));
}

TEST_F(ShapingE2E, SelectedFieldsAreAllThatIsSentAndSignaturesVerify) {
  auto [id, secret] = CreateWebhook("/fields", {{"fields", json::array{"id", "order_number", "total_amount", "items[].name"}}});
  HttpResult published = PublishRaw(
      "order.created",
      R"({"id":"o1","order_number":"ORD-1","customer":{"email":"a@example.com"},"total_amount":179.80,)"
      R"("items":[{"name":"Margherita Pizza","price":89.90},{"name":"Ayran","price":15}]})");
  ASSERT_EQ(published.status, 202) << published.body;
  ASSERT_TRUE(sink_.WaitForCount("/fields", 1));
  const SinkRequest r = sink_.Requests("/fields").at(0);
  EXPECT_TRUE(Contains(r.body, R"("data":{"id":"o1","order_number":"ORD-1","total_amount":179.8,)"
                               R"("items":[{"name":"Margherita Pizza"},{"name":"Ayran"}]},"metadata":{}})"))
      << r.body;
  EXPECT_FALSE(Contains(r.body, "a@example.com"));
  ExpectSigned(r, secret);
}

TEST_F(ShapingE2E, TransformedDeliveryGoesWhereAndHowTheScriptSays) {
  const std::string lua = R"(
function transform(webhook)
  local d = webhook.payload.data
  if d.total_amount < 10 then return nil end
  webhook.method = "PUT"
  webhook.url = re.gsub(webhook.url, "/orders$", "/slack")
  webhook.headers["X-Order"] = d.order_number
  webhook.payload = {text = "New order " .. d.order_number .. ": " .. d.total_amount}
  return webhook
end)";
  auto [id, secret] = CreateWebhook("/orders", {{"transform", json::object{{"lua", lua}}},
                                                {"custom_headers", json::object{{"X-Api-Key", "k1"}}}});
  auto [plain_id, plain_secret] = CreateWebhook("/plain");
  ASSERT_EQ(PublishRaw("order.created", R"({"order_number":"ORD-5","total_amount":179.80})").status, 202);
  ASSERT_TRUE(sink_.WaitForCount("/slack", 1));
  const SinkRequest r = sink_.Requests("/slack").at(0);
  EXPECT_EQ(r.method, "PUT");
  EXPECT_EQ(r.Header("X-Order"), "ORD-5");
  EXPECT_EQ(r.Header("X-Api-Key"), "k1");  // the script received the custom headers and kept them
  EXPECT_EQ(r.body, R"({"text":"New order ORD-5: 179.8"})");
  ExpectSigned(r, secret);
  EXPECT_EQ(sink_.Count("/orders"), 0u);

  // nil skips: logged as skipped while the other webhook of the same event is delivered.
  ASSERT_EQ(PublishRaw("order.created", R"({"order_number":"ORD-6","total_amount":5})").status, 202);
  ASSERT_TRUE(sink_.WaitForCount("/plain", 2));
  bool skipped = false;
  for (int i = 0; i < 100 && !skipped; ++i) {
    skipped = Contains(Call("GET", "/api/webhooks/logs?organization_id=" + org_id_ + "&status=skipped", org_key_).body,
                       "the transform returned nil");
    if (!skipped) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(skipped);
  EXPECT_EQ(sink_.Count("/slack"), 1u);
  EXPECT_TRUE(Contains(Call("GET", "/metrics", "").body, "ulak_deliveries_skipped_total 1"));
}

TEST_F(ShapingE2E, NewFieldsRoundTripAndBadInputIsRefusedByPlace) {
  const json::value filter = json::parse(R"({"data.status":{"$in":["pending","paid"]},"data.email":{"$regex":"@x\\.com$"}})");
  const json::array fields{"id", "items[].name"};
  const std::string lua = "function transform(w)\n  return w\nend\n";
  auto [id, secret] = CreateWebhook("/rt", {{"filter", filter}, {"fields", fields}, {"transform", json::object{{"lua", lua}}}});
  ASSERT_FALSE(id.empty());
  auto check = [&](const json::value& f, const json::value& fl, const json::value& t) {
    json::value got = Json(Call("GET", "/api/webhooks/" + id, org_key_));
    EXPECT_EQ(got.at("webhook").at("filter"), f) << json::serialize(got);
    EXPECT_EQ(got.at("webhook").at("fields"), fl) << json::serialize(got);
    EXPECT_EQ(got.at("webhook").at("transform"), t) << json::serialize(got);
  };
  check(filter, fields, json::object{{"lua", lua}});
  const std::string registry = Call("GET", "/api/registry?organization_id=" + org_id_, org_key_).body;
  EXPECT_TRUE(Contains(registry, "filter:")) << registry;
  EXPECT_TRUE(Contains(registry, "$regex")) << registry;
  EXPECT_TRUE(Contains(registry, R"(fields: ["id", "items[].name"])")) << registry;
  EXPECT_TRUE(Contains(registry, "function transform(w)")) << registry;

  struct Bad {
    const char* body;
    const char* place;
  } bad[] = {
      {R"({"filter":{"$and":[{"data.a":1},{"data.total_amount":{"$gte":[1]}}]}})", "filter.$and[1].data.total_amount.$gte"},
      {R"({"filter":{"data.a":{"$regex":"("}}})", "filter.data.a.$regex"},
      {R"({"filter":{"data.a":{"$near":1}}})", "filter.data.a.$near"},
      {R"({"fields":["ok","bad..path"]})", "fields[1]"},
      {R"({"fields":"id"})", "fields"},
      {R"({"transform":{"lua":"function transform(w) return w"}})", "transform.lua"},
      {R"({"transform":{"lua":"x = 1"}})", "transform.lua"},
      {R"({"transform":"return 1"})", "transform"},
      {R"({"name":"changed","filter":{"$or":5}})", "filter.$or"},
  };
  for (const Bad& b : bad) {
    HttpResult r = Call("PATCH", "/api/webhooks/" + id, org_key_, b.body);
    ExpectError(r, 422, "validation_error");
    EXPECT_TRUE(Contains(r.body, b.place)) << b.body << " -> " << r.body;
  }
  check(filter, fields, json::object{{"lua", lua}});  // nothing stored
  EXPECT_EQ(Json(Call("GET", "/api/webhooks/" + id, org_key_)).at("webhook").at("name"), json::value("hook /rt"));
  json::object create_bad{{"organization_id", org_id_}, {"name", "x"}, {"url", sink_.Url("/x")},
                          {"events", json::array{"order.*"}}, {"filter", json::parse(R"({"$bad":1})")}};
  ExpectError(Call("POST", "/api/webhooks", org_key_, json::serialize(create_bad)), 422, "validation_error");

  // PATCH changes, null removes.
  ASSERT_EQ(Call("PATCH", "/api/webhooks/" + id, org_key_, R"({"filter":{"event":"order.paid"},"fields":["id"]})").status, 200);
  check(json::parse(R"({"event":"order.paid"})"), json::array{"id"}, json::object{{"lua", lua}});
  ASSERT_EQ(Call("PATCH", "/api/webhooks/" + id, org_key_, R"({"filter":null,"fields":null,"transform":null})").status, 200);
  check(nullptr, nullptr, nullptr);
}

TEST_F(ShapingE2E, TryItEndpoints) {
  HttpResult match = Call("POST", "/api/filters/test", org_key_,
                          R"({"filter":{"data.items.name":"Margherita Pizza"},"payload":{"data":{"items":[{"name":"Ayran"},{"name":"Margherita Pizza"}]}}})");
  ASSERT_EQ(match.status, 200) << match.body;
  EXPECT_EQ(match.body, R"({"match":true})");
  HttpResult no = Call("POST", "/api/filters/test", org_key_, R"({"filter":{"data.x":{"$gt":5}},"payload":{"data":{"x":"9"}}})");
  EXPECT_EQ(no.body, R"({"match":false})");
  HttpResult bad = Call("POST", "/api/filters/test", org_key_, R"({"filter":{"$or":[{"a":{"$in":1}}]},"payload":{}})");
  ExpectError(bad, 422, "validation_error");
  EXPECT_TRUE(Contains(bad.body, "filter.$or[0].a.$in")) << bad.body;

  HttpResult ran = Call("POST", "/api/transformations/test", org_key_,
                        R"({"lua":"function transform(w) w.payload.total = w.payload.price * 2 return w end","payload":{"price":89.90,"id":12345678901234567890}})");
  ASSERT_EQ(ran.status, 200) << ran.body;
  EXPECT_TRUE(Contains(ran.body, R"("payload":{"price":89.9,"id":12345678901234567890,"total":179.8})")) << ran.body;
  HttpResult nil = Call("POST", "/api/transformations/test", org_key_, R"({"lua":"function transform(w) return nil end","payload":{}})");
  EXPECT_EQ(nil.body, R"({"skipped":true})");
  HttpResult loop = Call("POST", "/api/transformations/test", org_key_,
                         R"({"lua":"function transform(w)\n  while true do end\nend","payload":{}})");
  ExpectError(loop, 422, "validation_error");
  EXPECT_TRUE(Contains(loop.body, "transform:2:")) << loop.body;
  EXPECT_TRUE(Contains(loop.body, "instruction limit")) << loop.body;
  HttpResult os = Call("POST", "/api/transformations/test", org_key_,
                       R"({"lua":"function transform(w)\n  return os.getenv('HOME')\nend","payload":{}})");
  ExpectError(os, 422, "validation_error");
  EXPECT_TRUE(Contains(os.body, "transform:2: attempt to index a nil value (global 'os')")) << os.body;
}

}  // namespace
}  // namespace ulak::testing
