// App Store Server Notifications V2 against a PKI generated at test time (apple_test_pki.h),
// shaped like Apple's: what VECTORS.md says the official library checks, each in turn.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "crypto/encoding.h"
#include "crypto/x509.h"
#include "incoming/apple_root_ca.h"
#include "incoming/apple_test_pki.h"
#include "incoming/verifier.h"

namespace ulak::incoming {
namespace {

using std::chrono::seconds;
using testing::ApplePki;
using testing::MakeApplePkiForTest;
using testing::PkiOptions;
using testing::SignJwsForTest;

constexpr int64_t kSignedAtS = 1'700'000'000;
constexpr char kBundleId[] = "com.example.app";

boost::json::object TransactionInfo() {
  return boost::json::parse(R"({"transactionId":"2000000123","originalTransactionId":"2000000001",
      "bundleId":"com.example.app","productId":"pro.monthly","environment":"Sandbox",
      "signedDate":1700000000000})")
      .as_object();
}

boost::json::object RenewalInfo() {
  return boost::json::parse(R"({"originalTransactionId":"2000000001","autoRenewStatus":1,
      "environment":"Sandbox","signedDate":1700000000000})")
      .as_object();
}

// A DID_RENEW notification as Apple sends it, its nested JWS signed by the same chain.
boost::json::object Notification(const ApplePki& pki) {
  boost::json::object data;
  data["appAppleId"] = 1234;
  data["bundleId"] = kBundleId;
  data["bundleVersion"] = "42";
  data["environment"] = "Sandbox";
  data["status"] = 1;
  data["signedTransactionInfo"] = SignJwsForTest(pki, TransactionInfo());
  data["signedRenewalInfo"] = SignJwsForTest(pki, RenewalInfo());
  boost::json::object n;
  n["notificationType"] = "DID_RENEW";
  n["subtype"] = "BILLING_RECOVERY";
  n["notificationUUID"] = "6f1ec5b1-0bde-4a7b-9b3f-2f0b7e8b1c11";
  n["version"] = "2.0";
  n["signedDate"] = kSignedAtS * 1000;
  n["data"] = std::move(data);
  return n;
}

std::string Body(std::string_view jws) {
  boost::json::object body;
  body["signedPayload"] = jws;
  return boost::json::serialize(body);
}

class IncomingAppleTest : public ::testing::Test {
 protected:
  IncomingAppleTest() : pki_(MakeApplePkiForTest()) {
    options_.bundle_id = kBundleId;
    options_.root_certificates_pem = {pki_.root.Pem()};
  }

  Result<VerifiedEvent> VerifyBody(const std::string& body) const {
    return Verify(Provider::kApple, VerifyInput{body, headers_, secrets_, options_, now_});
  }
  Result<VerifiedEvent> VerifyNotification(const boost::json::object& notification) const {
    return VerifyBody(Body(SignJwsForTest(pki_, notification)));
  }
  void ExpectUnauthenticated(const Result<VerifiedEvent>& result, std::string_view reason) const {
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), ErrorCode::kUnauthenticated) << result.status().ToString();
    EXPECT_NE(result.status().message().find(reason), std::string::npos)
        << result.status().message();
  }

  ApplePki pki_;
  SourceOptions options_;
  Headers headers_;
  std::vector<std::string> secrets_;
  TimePoint now_ = TimePoint(seconds(kSignedAtS + 5));
};

TEST_F(IncomingAppleTest, AcceptsAndDecodesNotificationTransactionAndRenewal) {
  const boost::json::object notification = Notification(pki_);
  auto event = VerifyNotification(notification);
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ(event->provider_event_id, "6f1ec5b1-0bde-4a7b-9b3f-2f0b7e8b1c11");
  EXPECT_EQ(event->event_type, "DID_RENEW.BILLING_RECOVERY");
  const boost::json::object& data = event->data.at("data").as_object();
  EXPECT_EQ(data.at("transactionInfo").as_object(), TransactionInfo());
  EXPECT_EQ(data.at("renewalInfo").as_object(), RenewalInfo());
  // The signed originals stay, for anyone who wants to verify them again.
  EXPECT_EQ(data.at("signedTransactionInfo"), notification.at("data").at("signedTransactionInfo"));
  EXPECT_EQ(event->data.at("notificationType"), "DID_RENEW");
}

TEST_F(IncomingAppleTest, TypeWithoutSubtypeAndNoNestedData) {
  boost::json::object n = Notification(pki_);
  n.erase("subtype");
  n["notificationType"] = "TEST";
  n["data"].as_object().erase("signedTransactionInfo");
  n["data"].as_object().erase("signedRenewalInfo");
  auto event = VerifyNotification(n);
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ(event->event_type, "TEST");
  EXPECT_FALSE(event->data.at("data").as_object().contains("transactionInfo"));
}

TEST_F(IncomingAppleTest, ChainIsCheckedAtSignedDateNotNow) {
  // The leaf expired long before `now`, but was valid when Apple signed.
  pki_ = MakeApplePkiForTest({.leaf_valid_until = TimePoint(seconds(kSignedAtS + 3600))});
  options_.root_certificates_pem = {pki_.root.Pem()};
  now_ = TimePoint(seconds(kSignedAtS + 90 * 86400));
  EXPECT_TRUE(VerifyNotification(Notification(pki_)).ok());
}

TEST_F(IncomingAppleTest, WithoutSignedDateTheChainIsCheckedNow) {
  pki_ = MakeApplePkiForTest({.leaf_valid_until = TimePoint(seconds(kSignedAtS + 3600))});
  options_.root_certificates_pem = {pki_.root.Pem()};
  boost::json::object n = Notification(pki_);
  n.erase("signedDate");
  EXPECT_TRUE(VerifyNotification(n).ok());
  now_ = TimePoint(seconds(kSignedAtS + 7200));
  ExpectUnauthenticated(VerifyNotification(n), "certificate has expired");
}

TEST_F(IncomingAppleTest, RejectsAChainToAnotherRoot) {
  const ApplePki other = MakeApplePkiForTest();
  ExpectUnauthenticated(VerifyBody(Body(SignJwsForTest(other, Notification(other)))),
                        "certificate chain rejected");
}

TEST_F(IncomingAppleTest, AcceptsAnyOfSeveralConfiguredRoots) {
  const ApplePki other = MakeApplePkiForTest();
  options_.root_certificates_pem = {other.root.Pem(), pki_.root.Pem()};
  EXPECT_TRUE(VerifyNotification(Notification(pki_)).ok());
}

TEST_F(IncomingAppleTest, RejectsALeafWithoutTheAppleOid) {
  pki_ = MakeApplePkiForTest({.leaf_marker = false});
  options_.root_certificates_pem = {pki_.root.Pem()};
  ExpectUnauthenticated(VerifyNotification(Notification(pki_)),
                        "leaf certificate lacks OID 1.2.840.113635.100.6.11.1");
}

TEST_F(IncomingAppleTest, RejectsAnIntermediateWithoutTheAppleOid) {
  pki_ = MakeApplePkiForTest({.intermediate_marker = false});
  options_.root_certificates_pem = {pki_.root.Pem()};
  ExpectUnauthenticated(VerifyNotification(Notification(pki_)),
                        "intermediate certificate lacks OID 1.2.840.113635.100.6.2.1");
}

TEST_F(IncomingAppleTest, RejectsALeafExpiredAtSignedDate) {
  pki_ = MakeApplePkiForTest({.leaf_valid_from = TimePoint(seconds(kSignedAtS - 10 * 86400)),
                              .leaf_valid_until = TimePoint(seconds(kSignedAtS - 86400))});
  options_.root_certificates_pem = {pki_.root.Pem()};
  ExpectUnauthenticated(VerifyNotification(Notification(pki_)), "certificate has expired");
}

TEST_F(IncomingAppleTest, RejectsAWrongBundleId) {
  options_.bundle_id = "com.example.other";
  ExpectUnauthenticated(VerifyNotification(Notification(pki_)), "bundleId does not match");
}

TEST_F(IncomingAppleTest, RejectsAWrongEnvironment) {
  options_.environment = "Production";
  ExpectUnauthenticated(VerifyNotification(Notification(pki_)), "environment does not match");
  options_.environment = "Sandbox";
  EXPECT_TRUE(VerifyNotification(Notification(pki_)).ok());
}

TEST_F(IncomingAppleTest, ChecksAppAppleIdInProductionOnly) {
  options_.app_apple_id = 999;
  EXPECT_TRUE(VerifyNotification(Notification(pki_)).ok());  // Sandbox: not checked
  boost::json::object n = Notification(pki_);
  n["data"].as_object()["environment"] = "Production";
  n["data"].as_object().erase("signedTransactionInfo");
  n["data"].as_object().erase("signedRenewalInfo");
  ExpectUnauthenticated(VerifyNotification(n), "appAppleId does not match");
  options_.app_apple_id = 1234;
  EXPECT_TRUE(VerifyNotification(n).ok());
}

TEST_F(IncomingAppleTest, RejectsAlgorithmsOtherThanEs256) {
  for (const char* alg : {"ES384", "RS256", "HS256", "none", "es256"}) {
    ExpectUnauthenticated(VerifyBody(Body(SignJwsForTest(pki_, Notification(pki_), alg))),
                          "JWS alg is not ES256");
  }
}

TEST_F(IncomingAppleTest, RejectsAnAlteredPayload) {
  const std::string jws = SignJwsForTest(pki_, Notification(pki_));
  boost::json::object altered = Notification(pki_);
  altered["notificationType"] = "REFUND";
  const size_t first = jws.find('.');
  const size_t second = jws.find('.', first + 1);
  const std::string forged = jws.substr(0, first + 1) +
                             crypto::Base64UrlEncode(boost::json::serialize(altered)) +
                             jws.substr(second);
  ExpectUnauthenticated(VerifyBody(Body(forged)), "JWS signature does not verify");
}

TEST_F(IncomingAppleTest, RejectsAnX5cOfTwoCertificates) {
  ExpectUnauthenticated(VerifyBody(Body(SignJwsForTest(pki_, Notification(pki_), "ES256", 2))),
                        "x5c does not have the expected number of certificates");
}

TEST_F(IncomingAppleTest, RejectsANestedTransactionFromAnotherChain) {
  const ApplePki other = MakeApplePkiForTest();
  boost::json::object n = Notification(pki_);
  n["data"].as_object()["signedTransactionInfo"] = SignJwsForTest(other, TransactionInfo());
  ExpectUnauthenticated(VerifyNotification(n), "signedTransactionInfo: certificate chain rejected");
}

TEST_F(IncomingAppleTest, RejectsANestedTransactionOfAnotherApp) {
  boost::json::object n = Notification(pki_);
  boost::json::object transaction = TransactionInfo();
  transaction["bundleId"] = "com.example.other";
  n["data"].as_object()["signedTransactionInfo"] = SignJwsForTest(pki_, transaction);
  ExpectUnauthenticated(VerifyNotification(n), "signedTransactionInfo bundleId does not match");
}

TEST_F(IncomingAppleTest, MalformedBodiesAndPayloads) {
  for (const char* body : {"", "[]", R"({"signedPayload":1})", R"({"payload":"a.b.c"})"}) {
    auto result = VerifyBody(body);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), ErrorCode::kMalformed) << body;
  }
  for (const char* jws : {"", "a.b", "a.b.c.d", "...", "e30.e30.AA", "!!.e30.AA"}) {
    auto result = VerifyBody(Body(jws));
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), ErrorCode::kUnauthenticated) << jws;
  }
  boost::json::object n = Notification(pki_);
  n.erase("notificationUUID");
  auto result = VerifyNotification(n);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), ErrorCode::kMalformed);
  EXPECT_EQ(result.status().message(), "notification has no notificationUUID");
}

TEST(IncomingAppleRoot, EmbeddedRootIsAppleRootCaG3) {
  auto root = crypto::Certificate::FromPem(kAppleRootCaG3Pem);
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  EXPECT_EQ(crypto::HexEncode(root->Sha256Fingerprint()),
            "63343abfb89a6a03ebb57e9b3f5fa7be7c4f5c756f3017b3a8c488c3653e9179");
  EXPECT_NE(root->SubjectLine().find("Apple Root CA - G3"), std::string::npos);
}

TEST(IncomingAppleRoot, DefaultRootRejectsATestChain) {
  // With the default options only Apple's own chain can pass.
  auto options = ParseSourceOptions(
      Provider::kApple, boost::json::parse(R"({"bundle_id":"com.example.app"})").as_object());
  ASSERT_TRUE(options.ok());
  const ApplePki pki = MakeApplePkiForTest();
  const std::string body = Body(SignJwsForTest(pki, Notification(pki)));
  const Headers headers;
  const std::vector<std::string> secrets;
  auto result = Verify(Provider::kApple, VerifyInput{body, headers, secrets, *options,
                                                     TimePoint(seconds(kSignedAtS))});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), ErrorCode::kUnauthenticated);
}

}  // namespace
}  // namespace ulak::incoming
