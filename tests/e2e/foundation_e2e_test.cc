// End-to-end: the real `ulak serve` binary, over HTTP, as a user would meet it.
#include <signal.h>

#include "e2e/server_fixture.h"

namespace ulak::testing {
namespace {

using FoundationE2E = ServerFixture;

TEST_F(FoundationE2E, HealthAndReadinessAnswer200WithoutAuth) {
  HttpResult h = Call("GET", "/healthz", "");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(Json(h).at("status").as_string(), "ok");
  HttpResult r = Call("GET", "/readyz", "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Json(r).at("status").as_string(), "ready");
  EXPECT_FALSE(h.Header("X-Request-Id").empty());
}

TEST_F(FoundationE2E, MetricsArePrometheusTextWithoutTenantData) {
  auto [id, key] = CreateOrg("Metered");
  HttpResult m = Call("GET", "/metrics", "");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.Header("Content-Type").rfind("text/plain", 0), 0u);
  EXPECT_NE(m.body.find("# TYPE ulak_http_responses_total counter"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("ulak_http_responses_total{class=\"2xx\"}"), std::string::npos);
  EXPECT_NE(m.body.find("ulak_deliveries_held "), std::string::npos);
  EXPECT_EQ(m.body.find(id), std::string::npos);
  EXPECT_EQ(m.body.find(key), std::string::npos);
}

TEST_F(FoundationE2E, AdminCreatesOrganizationAndItsKeyWorks) {
  HttpResult r = Call("POST", "/api/organizations", kAdminKey, R"({"name":"Kebab House"})");
  ASSERT_EQ(r.status, 201) << r.body;
  boost::json::value v = Json(r);
  const auto& org = v.at("organization").as_object();
  EXPECT_EQ(org.at("name").as_string(), "Kebab House");
  EXPECT_EQ(org.at("id").as_string().size(), 36u);
  EXPECT_FALSE(org.at("created_at").as_string().empty());
  const std::string key(v.at("api_key").as_string());
  EXPECT_GE(key.size(), 43u);  // 256 bits in base64url, plus the prefix

  const std::string id(org.at("id").as_string());
  HttpResult own = Call("GET", "/api/organizations/" + id, key);
  ASSERT_EQ(own.status, 200) << own.body;
  EXPECT_EQ(Json(own).at("organization").at("id").as_string(), id);

  HttpResult list = Call("GET", "/api/organizations", kAdminKey);
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(Json(list).at("organizations").as_array().size(), 1u);
}

TEST_F(FoundationE2E, MissingOrInvalidKeyIs401) {
  ExpectError(Call("GET", "/api/organizations", ""), 401, "unauthorized");
  ExpectError(Call("GET", "/api/organizations", "not-a-key"), 401, "unauthorized");
  ExpectError(Call("GET", "/api/organizations", "", "", {"Authorization: Basic dXNlcjpwYXNz"}), 401,
              "unauthorized");
}

TEST_F(FoundationE2E, OrganizationKeyCannotActForAnotherOrganization) {
  auto [a_id, a_key] = CreateOrg("A");
  auto [b_id, b_key] = CreateOrg("B");
  // Naming another organization: 403.
  ExpectError(Call("GET", "/api/organizations/" + b_id, a_key), 403, "forbidden");
  ExpectError(Call("POST", "/api/organizations/" + b_id + "/keys", a_key), 403, "forbidden");
  // Admin-only routes: 403 for an organization key.
  ExpectError(Call("GET", "/api/organizations", a_key), 403, "forbidden");
  ExpectError(Call("POST", "/api/organizations", a_key, R"({"name":"C"})"), 403, "forbidden");
  // Another organization's object id under one's own organization: 404.
  HttpResult b_keys = Call("GET", "/api/organizations/" + b_id + "/keys", b_key);
  ASSERT_EQ(b_keys.status, 200);
  const std::string b_key_id(Json(b_keys).at("keys").at(0).at("id").as_string());
  ExpectError(Call("DELETE", "/api/organizations/" + a_id + "/keys/" + b_key_id, a_key), 404, "not_found");
  EXPECT_EQ(Call("GET", "/api/organizations/" + b_id, b_key).status, 200);  // B's key still works
}

TEST_F(FoundationE2E, UnknownRouteIs404AndUnknownOrganizationIs404) {
  ExpectError(Call("GET", "/api/nothing-here", kAdminKey), 404, "not_found");
  ExpectError(Call("GET", "/api/organizations/01890000-0000-7000-8000-000000000000", kAdminKey), 404,
              "not_found");
}

TEST_F(FoundationE2E, WrongMethodIs405WithAllow) {
  HttpResult r = Call("PUT", "/api/organizations", kAdminKey, R"({"name":"x"})");
  ExpectError(r, 405, "method_not_allowed");
  EXPECT_NE(r.Header("Allow").find("POST"), std::string::npos);
  EXPECT_NE(r.Header("Allow").find("GET"), std::string::npos);
  ExpectError(Call("DELETE", "/healthz", ""), 405, "method_not_allowed");
}

TEST_F(FoundationE2E, MalformedJsonIs400SayingWhere) {
  HttpResult r = Call("POST", "/api/organizations", kAdminKey, "{\"name\": \"x\",\n  oops}");
  ExpectError(r, 400, "invalid_json");
  const std::string msg(Json(r).at("error").at("message").as_string());
  EXPECT_NE(msg.find("line 2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("column"), std::string::npos) << msg;
  ExpectError(Call("POST", "/api/organizations", kAdminKey, R"({"name":"x"} trailing)"), 400, "invalid_json");
}

TEST_F(FoundationE2E, WrongFieldTypeOrValueIs422NamingTheField) {
  HttpResult wrong_type = Call("POST", "/api/organizations", kAdminKey, R"({"name": 42})");
  ExpectError(wrong_type, 422, "validation_error");
  EXPECT_NE(std::string(Json(wrong_type).at("error").at("message").as_string()).find("name"), std::string::npos);
  HttpResult missing = Call("POST", "/api/organizations", kAdminKey, R"({"title":"x"})");
  ExpectError(missing, 422, "validation_error");
  EXPECT_NE(std::string(Json(missing).at("error").at("message").as_string()).find("name"), std::string::npos);
  ExpectError(Call("POST", "/api/organizations", kAdminKey, R"({"name":"   "})"), 422, "validation_error");
  ExpectError(Call("POST", "/api/organizations", kAdminKey, R"(["name"])"), 422, "validation_error");
  HttpResult bad_limit = Call("GET", "/api/organizations?limit=0", kAdminKey);
  ExpectError(bad_limit, 422, "validation_error");
  EXPECT_NE(std::string(Json(bad_limit).at("error").at("message").as_string()).find("limit"), std::string::npos);
}

TEST_F(FoundationE2E, BodyOverOneMebibyteIs413) {
  const std::string big = R"({"name":")" + std::string((1 << 20) + 10, 'a') + R"("})";
  ExpectError(Call("POST", "/api/organizations", kAdminKey, big), 413, "payload_too_large");
}

TEST_F(FoundationE2E, OversizedOrTooManyHeadersAre431) {
  const std::string huge = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(64 * 1024, 'b') + "\r\n\r\n";
  const std::string response = RawExchange(server_->WaitForPort(), huge);
  EXPECT_EQ(response.rfind("HTTP/1.1 431", 0), 0u) << response.substr(0, 200);
  EXPECT_NE(response.find("\"code\":\"request_header_fields_too_large\""), std::string::npos);

  std::string many = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 150; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  many += "\r\n";
  const std::string r2 = RawExchange(server_->WaitForPort(), many);
  EXPECT_EQ(r2.rfind("HTTP/1.1 431", 0), 0u) << r2.substr(0, 200);
}

TEST_F(FoundationE2E, RejectedRequestsChangeNothing) {
  CreateOrg("Existing");
  const std::string before = Call("GET", "/api/organizations", kAdminKey).body;
  Call("POST", "/api/organizations", kAdminKey, R"({"name": 1})");
  Call("POST", "/api/organizations", kAdminKey, R"({"name": "x",)");
  Call("POST", "/api/organizations", kAdminKey, R"({"name":")" + std::string(300, 'n') + R"("})");
  Call("POST", "/api/organizations", "wrong-key", R"({"name":"y"})");
  Call("POST", "/api/organizations", kAdminKey, R"({"name":")" + std::string(2 << 20, 'z') + R"("})");
  EXPECT_EQ(Call("GET", "/api/organizations", kAdminKey).body, before);
}

TEST_F(FoundationE2E, KeysRotate) {
  auto [id, old_key] = CreateOrg("Rotating");
  HttpResult created = Call("POST", "/api/organizations/" + id + "/keys", old_key);
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string new_key(Json(created).at("api_key").as_string());
  HttpResult keys = Call("GET", "/api/organizations/" + id + "/keys", new_key);
  ASSERT_EQ(keys.status, 200);
  ASSERT_EQ(Json(keys).at("keys").as_array().size(), 2u);
  EXPECT_EQ(keys.body.find(old_key), std::string::npos);  // secrets never listed
  // Delete the old key (the first one created) with the new key.
  const std::string old_id(Json(keys).at("keys").at(0).at("id").as_string());
  EXPECT_EQ(Call("DELETE", "/api/organizations/" + id + "/keys/" + old_id, new_key).status, 204);
  ExpectError(Call("GET", "/api/organizations/" + id, old_key), 401, "unauthorized");
  EXPECT_EQ(Call("GET", "/api/organizations/" + id, new_key).status, 200);
}

TEST_F(FoundationE2E, OrganizationsArePaginated) {
  for (int i = 0; i < 3; ++i) CreateOrg("org" + std::to_string(i));
  HttpResult p1 = Call("GET", "/api/organizations?limit=2", kAdminKey);
  ASSERT_EQ(p1.status, 200);
  boost::json::value v1 = Json(p1);
  EXPECT_EQ(v1.at("organizations").as_array().size(), 2u);
  EXPECT_TRUE(v1.at("has_more").as_bool());
  const std::string cursor(v1.at("next_cursor").as_string());
  HttpResult p2 = Call("GET", "/api/organizations?limit=2&cursor=" + cursor, kAdminKey);
  boost::json::value v2 = Json(p2);
  EXPECT_EQ(v2.at("organizations").as_array().size(), 1u);
  EXPECT_TRUE(v2.at("next_cursor").is_null());
  EXPECT_FALSE(v2.at("has_more").as_bool());
}

TEST_F(FoundationE2E, OrganizationSurvivesRestart) {
  auto [id, key] = CreateOrg("Durable");
  ASSERT_EQ(server_->StopWith(SIGTERM), 0);
  EXPECT_NE(server_->Stderr().find("\"msg\":\"stopped\""), std::string::npos);
  Start();
  HttpResult r = Call("GET", "/api/organizations/" + id, key);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r).at("organization").at("name").as_string(), "Durable");
}

TEST_F(FoundationE2E, SecretsNeverReachTheLog) {
  auto [id, key] = CreateOrg("Quiet");
  Call("GET", "/api/organizations/" + id, key);
  Call("GET", "/api/organizations", "wrong-secret-value");
  const std::string log = server_->Stderr();
  EXPECT_EQ(log.find(key), std::string::npos);
  EXPECT_EQ(log.find(kAdminKey), std::string::npos);
  EXPECT_EQ(log.find("wrong-secret-value"), std::string::npos);
  EXPECT_NE(log.find("\"msg\":\"request\""), std::string::npos);  // but requests are logged
}

// Without ULAK_ADMIN_KEY the first start generates a key and prints it once; later starts
// keep using it and do not print it again.
class GeneratedAdminKeyE2E : public ServerFixture {
 protected:
  void SetUp() override {}
};

TEST_F(GeneratedAdminKeyE2E, FirstStartPrintsKeyOnceAndItKeepsWorking) {
  TempDir fresh;
  std::vector<std::string> args = {"serve", "--listen", "127.0.0.1:0", "--database", "sqlite:" + fresh.path() + "/u.db"};
  unsetenv("ULAK_ADMIN_KEY");
  auto first = std::make_unique<UlakProcess>(args, std::vector<std::string>{}, fresh.path());
  ASSERT_GT(first->WaitForPort(), 0) << first->Stderr();
  const std::string out = first->Stdout();
  const size_t at = out.find("ulak_admin_");
  ASSERT_NE(at, std::string::npos) << out;
  const std::string key = out.substr(at, out.find_first_of(" \n", at) - at);
  EXPECT_EQ(first->Stderr().find(key), std::string::npos);  // not in the log
  EXPECT_EQ(HttpRequest("GET", first->BaseUrl() + "/api/organizations", {"Authorization: Bearer " + key}).status, 200);
  ASSERT_EQ(first->StopWith(SIGTERM), 0);

  UlakProcess second(args, {}, fresh.path());
  ASSERT_GT(second.WaitForPort(), 0);
  EXPECT_EQ(second.Stdout().find("ulak_admin_"), std::string::npos);
  EXPECT_EQ(HttpRequest("GET", second.BaseUrl() + "/api/organizations", {"Authorization: Bearer " + key}).status, 200);
  EXPECT_EQ(second.StopWith(SIGTERM), 0);
}

}  // namespace
}  // namespace ulak::testing
