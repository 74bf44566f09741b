// A running `ulak serve` on a free port with a temporary SQLite file and a known admin key.
#pragma once

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <memory>
#include <string>

#include "support/http_client.h"
#include "support/temp_dir.h"
#include "support/ulak_process.h"

namespace ulak::testing {

inline const std::string kAdminKey = "test-admin-key-0123456789abcdef0123456789";

class ServerFixture : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }
  void TearDown() override {
    if (server_) {
      EXPECT_EQ(server_->StopWith(SIGTERM), 0) << server_->Stderr();
    }
  }

  std::vector<std::string> ServeArgs() const {
    return {"serve", "--listen", "127.0.0.1:0", "--database", "sqlite:" + DbPath(), "--threads", "2"};
  }
  std::string DbPath() const { return dir_.path() + "/ulak.db"; }

  void Start(std::vector<std::string> env = {"ULAK_ADMIN_KEY=" + kAdminKey}) {
    server_ = std::make_unique<UlakProcess>(ServeArgs(), std::move(env), dir_.path());
    ASSERT_GT(server_->WaitForPort(), 0) << server_->Stderr();
  }

  HttpResult Call(const std::string& method, const std::string& path, const std::string& key,
                  const std::string& body = "", std::vector<std::string> headers = {}) {
    if (!key.empty()) headers.push_back("Authorization: Bearer " + key);
    if (!body.empty()) headers.push_back("Content-Type: application/json");
    return HttpRequest(method, server_->BaseUrl() + path, headers, body);
  }

  static boost::json::value Json(const HttpResult& r) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(r.body, ec);
    EXPECT_FALSE(ec) << "not JSON: " << r.body;
    return v;
  }

  // Asserts the exact error shape: {"error": {"code": code, "message": non-empty}} and
  // nothing else.
  static void ExpectError(const HttpResult& r, int status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.body;
    boost::json::value v = Json(r);
    ASSERT_TRUE(v.is_object()) << r.body;
    ASSERT_EQ(v.as_object().size(), 1u) << r.body;
    const boost::json::value* err = v.as_object().if_contains("error");
    ASSERT_NE(err, nullptr) << r.body;
    ASSERT_TRUE(err->is_object()) << r.body;
    EXPECT_EQ(err->as_object().size(), 2u) << r.body;
    ASSERT_TRUE(err->as_object().contains("code") && err->as_object().at("code").is_string()) << r.body;
    EXPECT_EQ(err->as_object().at("code").as_string(), code) << r.body;
    ASSERT_TRUE(err->as_object().contains("message") && err->as_object().at("message").is_string()) << r.body;
    EXPECT_FALSE(err->as_object().at("message").as_string().empty());
    EXPECT_EQ(r.Header("Content-Type"), "application/json");
  }

  // Creates an organization with the admin key; returns {id, api key}.
  std::pair<std::string, std::string> CreateOrg(const std::string& name) {
    HttpResult r = Call("POST", "/api/organizations", kAdminKey, R"({"name":")" + name + R"("})");
    EXPECT_EQ(r.status, 201) << r.body;
    boost::json::value v = Json(r);
    return {std::string(v.at("organization").at("id").as_string()), std::string(v.at("api_key").as_string())};
  }

  TempDir dir_;
  std::unique_ptr<UlakProcess> server_;
};

}  // namespace ulak::testing
