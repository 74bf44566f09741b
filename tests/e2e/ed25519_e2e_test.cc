// End-to-end tests of asymmetric webhook signatures (issue 16, signature_scheme "ed25519"):
// the real `ulak serve` delivers to a sink on 127.0.0.1, and Node's crypto.verify (an
// implementation independent of ulak's OpenSSL calls, tests/e2e/verify_ed25519.js) checks
// the v1a signature with the whpk_ public key the API shows; a tampered body fails.
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <regex>

#include "e2e/server_fixture.h"
#include "support/command.h"
#include "support/independent_crypto.h"
#include "support/sink.h"

#ifndef ULAK_SOURCE_DIR
#error "tests/CMakeLists.txt defines ULAK_SOURCE_DIR for the e2e tests"
#endif

namespace ulak::testing {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

std::string Str(const json::value& v) { return v.is_string() ? std::string(v.as_string()) : std::string(); }

class Ed25519E2E : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    if (HasFatalFailure()) return;
    std::tie(org_id_, org_key_) = CreateOrg("Kebab House");
  }

  // Creates an ed25519 webhook on sink path `path`; returns the 201 answer.
  json::object CreateEd25519Webhook(const std::string& path) {
    json::object body{{"name", "CRM"}, {"url", sink_.Url(path)}, {"events", json::array{"order.created"}},
                      {"signature_scheme", "ed25519"}};
    HttpResult r = Call("POST", "/api/webhooks", org_key_, json::serialize(body));
    EXPECT_EQ(r.status, 201) << r.body;
    json::value v = Json(r);
    return v.is_object() ? v.as_object() : json::object();
  }

  void Publish(const std::string& order_id) {
    json::object event{{"event", "order.created"}, {"data", json::object{{"order_id", order_id}}}};
    HttpResult r = Call("POST", "/api/events", org_key_, json::serialize(event));
    EXPECT_EQ(r.status, 202) << r.body;
  }

  // Runs verify_ed25519.js on one delivery (its body possibly replaced); returns its exit code.
  int NodeVerify(const SinkRequest& r, const std::string& whpk, const std::string& body) {
    const std::string path = dir_.path() + "/body" + std::to_string(++scratch_) + ".json";
    std::ofstream(path, std::ios::binary) << body;
    CommandResult result = RunCommand({"node", std::string(ULAK_SOURCE_DIR) + "/tests/e2e/verify_ed25519.js", path,
                                       whpk, r.Header("webhook-id"), r.Header("webhook-timestamp"),
                                       r.Header("webhook-signature")},
                                      {}, dir_.path());
    if (result.exit_code != 0) std::cerr << "verify_ed25519.js: " << result.output;
    return result.exit_code;
  }

  HttpSink sink_;
  std::string org_id_, org_key_;
  int scratch_ = 0;
};

TEST_F(Ed25519E2E, NodeCryptoVerifiesTheV1aSignatureWithThePublicKeyAndRejectsATamperedBody) {
  json::object created = CreateEd25519Webhook("/ed");
  ASSERT_TRUE(created.contains("webhook"));
  const json::object& webhook = created.at("webhook").as_object();
  EXPECT_EQ(webhook.at("signature_scheme"), json::value("ed25519"));
  const std::string whpk = Str(webhook.at("public_key"));
  ASSERT_TRUE(std::regex_match(whpk, std::regex("whpk_[A-Za-z0-9+/]{43}="))) << whpk;
  // The private key never leaves: not in the create answer, not in a GET.
  const std::string id = Str(webhook.at("id"));
  HttpResult got = Call("GET", "/api/webhooks/" + id, org_key_);
  EXPECT_EQ(got.body.find("whsk_"), std::string::npos) << got.body;
  EXPECT_EQ(json::serialize(created).find("whsk_"), std::string::npos);
  EXPECT_EQ(Str(Json(got).at("webhook").at("public_key")), whpk);

  Publish("ORD-10");
  ASSERT_TRUE(sink_.WaitForCount("/ed", 1));
  const SinkRequest r = sink_.Requests("/ed").at(0);
  const std::string header = r.Header("webhook-signature");
  EXPECT_TRUE(std::regex_match(header, std::regex("v1a,[A-Za-z0-9+/]{86}=="))) << header;
  // Seed 001's HMAC header is still sent (the webhook keeps its HMAC secret_key).
  const std::string secret_key = Str(webhook.at("secret_key"));
  EXPECT_EQ(r.Header("X-Webhook-Signature"), HexEncode(HmacSha256(secret_key, r.body)));

  EXPECT_EQ(NodeVerify(r, whpk, r.body), 0);
  std::string tampered = r.body;
  tampered.replace(tampered.find("ORD-10"), 6, "ORD-11");
  EXPECT_EQ(NodeVerify(r, whpk, tampered), 1);
}

TEST_F(Ed25519E2E, RotationWithGraceSignsWithBothKeysAndSwitchingToHmacDropsThem) {
  json::object created = CreateEd25519Webhook("/rot");
  ASSERT_TRUE(created.contains("webhook"));
  const std::string id = Str(created.at("webhook").at("id"));
  const std::string old_whpk = Str(created.at("webhook").at("public_key"));

  HttpResult patched = Call("PATCH", "/api/webhooks/" + id, org_key_,
                            R"({"regenerate_secret": true, "grace_period_s": 3600})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  json::value p = Json(patched);
  const std::string new_whpk = Str(p.at("webhook").at("public_key"));
  EXPECT_NE(new_whpk, old_whpk);
  EXPECT_EQ(Str(p.at("webhook").at("previous_public_key")), old_whpk);

  Publish("ORD-20");
  ASSERT_TRUE(sink_.WaitForCount("/rot", 1));
  const SinkRequest r = sink_.Requests("/rot").at(0);
  const std::string both = r.Header("webhook-signature");
  EXPECT_EQ(std::count(both.begin(), both.end(), ' '), 1) << both;
  EXPECT_EQ(NodeVerify(r, new_whpk, r.body), 0);  // receivers on either key accept it
  EXPECT_EQ(NodeVerify(r, old_whpk, r.body), 0);

  HttpResult hmac = Call("PATCH", "/api/webhooks/" + id, org_key_, R"({"signature_scheme": "hmac"})");
  ASSERT_EQ(hmac.status, 200) << hmac.body;
  EXPECT_TRUE(Json(hmac).at("webhook").at("public_key").is_null()) << hmac.body;
  Publish("ORD-21");
  ASSERT_TRUE(sink_.WaitForCount("/rot", 2));
  EXPECT_EQ(sink_.Requests("/rot").at(1).Header("webhook-signature").rfind("v1,", 0), 0u);
}

TEST_F(Ed25519E2E, UnknownSchemeIsRefusedNamingTheField) {
  HttpResult r = Call("POST", "/api/webhooks", org_key_,
                      R"({"name": "x", "url": "http://127.0.0.1:9/x", "events": ["a.b"], "signature_scheme": "rsa"})");
  ExpectError(r, 422, "validation_error");
  EXPECT_NE(r.body.find("signature_scheme"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace ulak::testing
