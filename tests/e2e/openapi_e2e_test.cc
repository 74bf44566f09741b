// GET /api/openapi.json serves docs/openapi.json byte for byte, without a key, and a real
// OpenAPI 3.1 validator (@seriousme/openapi-schema-validator, pinned by
// tests/openapi/package-lock.json) accepts what is served. The router-vs-document check is
// the unit test OpenApi.EveryRouteIsDocumentedAndEveryDocumentedOperationIsRouted; here,
// real answers of many routes (successes and errors) are checked against the schemas the
// document gives for them (tests/openapi/check_answers.mjs).
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "e2e/server_fixture.h"
#include "support/command.h"
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

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

namespace json = boost::json;

using OpenApiE2E = ServerFixture;

void InstallNodeDeps(const std::string& scratch) {
  CommandResult install = RunCommand({"bash", std::string(ULAK_SOURCE_DIR) + "/scripts/install-test-node-deps.sh",
                                      ULAK_TEST_NODE_PREFIX},
                                     {}, scratch, 300s);
  ASSERT_EQ(install.exit_code, 0) << "installing the OpenAPI validator failed:\n" << install.output;
}

TEST_F(OpenApiE2E, ServedDocumentIsTheRepositoryFileAndAValidOpenApi31Document) {
  HttpResult r = Call("GET", "/api/openapi.json", "");  // no key: documentation is public
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("Content-Type"), "application/json");
  EXPECT_EQ(r.body, ReadFile(std::string(ULAK_SOURCE_DIR) + "/docs/openapi.json"))
      << "the binary serves another document than docs/openapi.json: re-run cmake";

  ASSERT_NO_FATAL_FAILURE(InstallNodeDeps(dir_.path()));
  const std::string served = dir_.path() + "/openapi.json";
  std::ofstream(served, std::ios::binary) << r.body;
  CommandResult valid = RunCommand({"node", std::string(ULAK_SOURCE_DIR) + "/tests/openapi/validate.mjs",
                                    ULAK_TEST_NODE_PREFIX, served},
                                   {}, dir_.path());
  EXPECT_EQ(valid.exit_code, 0) << valid.output;

  // The validator does reject a broken document (the test would prove nothing otherwise).
  const std::string broken = dir_.path() + "/broken.json";
  std::string text = r.body;
  text.replace(text.find("\"3.1.0\""), 7, "\"3.1.0\", \"paths\": 7");
  std::ofstream(broken, std::ios::binary) << text;
  CommandResult invalid = RunCommand({"node", std::string(ULAK_SOURCE_DIR) + "/tests/openapi/validate.mjs",
                                      ULAK_TEST_NODE_PREFIX, broken},
                                     {}, dir_.path());
  EXPECT_EQ(invalid.exit_code, 1) << invalid.output;
}

// Calls routes as a client would and records {method, documented path, status, body}.
class AnswerRecorder {
 public:
  using Caller = std::function<HttpResult(const std::string& method, const std::string& path, const std::string& key,
                                          const std::string& body)>;
  explicit AnswerRecorder(Caller call) : call_(std::move(call)) {}

  json::value Call(const std::string& method, const std::string& documented_path, const std::string& path,
                   const std::string& key, const std::string& body = "", int expected_status = 0) {
    HttpResult r = call_(method, path, key, body);
    if (expected_status != 0) {
      EXPECT_EQ(r.status, expected_status) << method << " " << path << ": " << r.body;
    }
    json::value parsed = nullptr;
    if (!r.body.empty()) {
      boost::system::error_code ec;
      parsed = json::parse(r.body, ec);
      if (ec) parsed = nullptr;  // not JSON (metrics, YAML): only the status is checked
    }
    samples_.push_back(json::object{{"method", method}, {"path", documented_path}, {"status", r.status},
                                    {"body", parsed}});
    return parsed;
  }
  std::string Json() const { return json::serialize(samples_); }
  size_t size() const { return samples_.size(); }

 private:
  Caller call_;
  json::array samples_;
};

std::string Str(const json::value& v) { return v.is_string() ? std::string(v.as_string()) : std::string(); }

TEST_F(OpenApiE2E, RealAnswersMatchTheirDocumentedSchemas) {
  HttpSink sink;
  AnswerRecorder rec([this](const std::string& method, const std::string& path, const std::string& key,
                            const std::string& body) { return Call(method, path, key, body); });
  const std::string& admin = kAdminKey;
  rec.Call("GET", "/healthz", "/healthz", "", "", 200);
  rec.Call("GET", "/readyz", "/readyz", "", "", 200);
  json::value org = rec.Call("POST", "/api/organizations", "/api/organizations", admin, R"({"name": "Kebab House"})", 201);
  const std::string org_id = Str(org.at("organization").at("id"));
  const std::string key = Str(org.at("api_key"));
  rec.Call("GET", "/api/organizations", "/api/organizations?limit=5", admin, "", 200);
  rec.Call("GET", "/api/organizations/{id}", "/api/organizations/" + org_id, key, "", 200);
  json::value created_key = rec.Call("POST", "/api/organizations/{id}/keys", "/api/organizations/" + org_id + "/keys",
                                     key, "", 201);
  rec.Call("GET", "/api/organizations/{id}/keys", "/api/organizations/" + org_id + "/keys", key, "", 200);
  rec.Call("DELETE", "/api/organizations/{id}/keys/{key_id}",
           "/api/organizations/" + org_id + "/keys/" + Str(created_key.at("key").at("id")), key, "", 204);

  // Webhooks, both signature schemes.
  json::value hmac = rec.Call("POST", "/api/webhooks", "/api/webhooks", key,
                              R"({"name": "CRM", "url": ")" + sink.Url("/crm") +
                                  R"(", "events": ["order.*"], "retry_policy": {"kind": "exponential"}})",
                              201);
  const std::string webhook_id = Str(hmac.at("webhook").at("id"));
  rec.Call("POST", "/api/webhooks", "/api/webhooks", key,
           R"({"name": "Signed", "url": ")" + sink.Url("/ed") + R"(", "events": ["*"], "signature_scheme": "ed25519"})",
           201);
  rec.Call("GET", "/api/webhooks", "/api/webhooks", key, "", 200);
  rec.Call("GET", "/api/webhooks/{id}", "/api/webhooks/" + webhook_id, key, "", 200);
  rec.Call("PATCH", "/api/webhooks/{id}", "/api/webhooks/" + webhook_id, key,
           R"({"regenerate_secret": true, "grace_period_s": 60, "rate_limit_per_s": 50})", 200);
  json::value published = rec.Call("POST", "/api/events", "/api/events", key,
                                   R"({"event": "order.created", "data": {"total": 179.80}, "event_id": "o-1"})", 202);
  rec.Call("POST", "/api/events", "/api/events", key,
           R"({"event": "order.created", "data": {"total": 179.80}, "event_id": "o-1"})", 202);  // replay
  ASSERT_TRUE(sink.WaitForCount("/crm", 1));
  rec.Call("POST", "/api/webhooks/test", "/api/webhooks/test", key,
           R"({"webhook_config_id": ")" + webhook_id + R"("})", 200);
  json::value logs;
  for (int i = 0; i < 100; ++i) {  // the attempt's log row is written just after the answer
    logs = Json(Call("GET", "/api/webhooks/logs", key));
    if (logs.is_object() && !logs.at("logs").as_array().empty()) break;
    std::this_thread::sleep_for(50ms);
  }
  rec.Call("GET", "/api/webhooks/logs", "/api/webhooks/logs?status=success&limit=10", key, "", 200);
  const std::string delivery_id = Str(logs.at("logs").at(0).at("delivery_id"));
  rec.Call("GET", "/api/deliveries/{id}", "/api/deliveries/" + delivery_id, key, "", 200);
  rec.Call("POST", "/api/deliveries/{id}/retry", "/api/deliveries/" + delivery_id + "/retry", key, "", 202);
  rec.Call("POST", "/api/events/{id}/resend", "/api/events/" + Str(published.at("event").at("id")) + "/resend", key,
           R"({"webhook_config_id": ")" + webhook_id + R"("})", 202);
  json::value job = rec.Call("POST", "/api/webhooks/{id}/recover", "/api/webhooks/" + webhook_id + "/recover", key,
                             R"({"since": "2020-01-01T00:00:00Z"})", 202);
  rec.Call("GET", "/api/jobs/{id}", "/api/jobs/" + Str(job.at("job").at("id")), key, "", 200);
  rec.Call("GET", "/api/monitoring/webhooks", "/api/monitoring/webhooks", key, "", 200);
  rec.Call("GET", "/api/monitoring/failures", "/api/monitoring/failures", key, "", 200);
  rec.Call("POST", "/api/webhooks/retry", "/api/webhooks/retry", admin, "", 200);

  // Receiving.
  json::value source = rec.Call("POST", "/api/sources", "/api/sources", key,
                                R"({"name": "Hooks", "provider": "hmac", "secrets": ["s3cret-s3cret"], "options": {"signature_header": "X-Sig"},
                                    "event_map": [{"match": "*", "event": "hook.received"}]})",
                                201);
  const std::string source_id = Str(source.at("source").at("id"));
  rec.Call("GET", "/api/sources", "/api/sources", key, "", 200);
  rec.Call("GET", "/api/sources/{id}", "/api/sources/" + source_id, key, "", 200);
  rec.Call("PATCH", "/api/sources/{id}", "/api/sources/" + source_id, key, R"({"add_secret": "another-one"})", 200);
  rec.Call("POST", "/api/incoming/{source_id}", "/api/incoming/" + source_id, "", R"({"type": "x"})", 401);
  rec.Call("GET", "/api/incoming/logs", "/api/incoming/logs?status=rejected", key, "", 200);
  rec.Call("POST", "/api/webhooks/stripe", "/api/webhooks/stripe", "", R"({"id": "evt_1"})", 404);  // no default source
  rec.Call("GET", "/api/registry", "/api/registry", key, "", 200);
  rec.Call("DELETE", "/api/sources/{id}", "/api/sources/" + source_id, key, "", 204);

  // The error shape, on several codes.
  rec.Call("GET", "/api/webhooks/{id}", "/api/webhooks/01890000-0000-7000-8000-000000000000", key, "", 404);
  rec.Call("GET", "/api/webhooks", "/api/webhooks", "", "", 401);
  rec.Call("GET", "/api/organizations", "/api/organizations", key, "", 403);
  rec.Call("POST", "/api/webhooks", "/api/webhooks", key, "{not json", 400);
  rec.Call("POST", "/api/webhooks", "/api/webhooks", key, R"({"name": "x", "url": "ftp://x", "events": ["a"]})", 422);
  rec.Call("DELETE", "/api/webhooks/{id}", "/api/webhooks/" + webhook_id, key, "", 204);

  ASSERT_NO_FATAL_FAILURE(InstallNodeDeps(dir_.path()));
  const std::string samples = dir_.path() + "/answers.json";
  std::ofstream(samples, std::ios::binary) << rec.Json();
  CommandResult checked = RunCommand({"node", std::string(ULAK_SOURCE_DIR) + "/tests/openapi/check_answers.mjs",
                                      ULAK_TEST_NODE_PREFIX, std::string(ULAK_SOURCE_DIR) + "/docs/openapi.json",
                                      samples},
                                     {}, dir_.path());
  EXPECT_EQ(checked.exit_code, 0) << checked.output;
  EXPECT_GE(rec.size(), 40u);
}

}  // namespace
}  // namespace ulak::testing
