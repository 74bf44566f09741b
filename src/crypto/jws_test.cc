#include "crypto/jws.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "crypto/encoding.h"
#include "incoming/apple_test_pki.h"

namespace ulak::crypto {
namespace {

using std::chrono::seconds;

TEST(Jws, ParsesCompactForm) {
  const std::string header = Base64UrlEncode(R"({"alg":"ES256"})");
  const std::string payload = Base64UrlEncode(R"({"a":1})");
  auto jws = ParseCompactJws(header + "." + payload + "." + Base64UrlEncode("sig"));
  ASSERT_TRUE(jws.ok()) << jws.status().ToString();
  EXPECT_EQ(jws->signing_input, header + "." + payload);
  EXPECT_EQ(jws->header_json, R"({"alg":"ES256"})");
  EXPECT_EQ(jws->payload, R"({"a":1})");
  EXPECT_EQ(jws->signature, "sig");
}

TEST(Jws, RefusesWhatIsNotCompactBase64Url) {
  for (const char* text : {"", ".", "..", "a.b", "a.b.c.d", ".YQ.YQ", "YQ..YQ", "YQ.YQ.",
                           "YQ==.YQ.YQ", "Y+Q.YQ.YQ", "YQ.Y/Q.YQ", "YQ.YQ.Y Q", "Y.YQ.YQ"}) {
    auto jws = ParseCompactJws(text);
    ASSERT_FALSE(jws.ok()) << text;
    EXPECT_EQ(jws.status().code(), ErrorCode::kMalformed);
  }
}

TEST(Jws, ReadsAlgAndX5c) {
  auto header = ParseJwsHeader(R"({"alg":"ES256","x5c":["AAEC","/w=="],"kid":"k"})");
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  EXPECT_EQ(header->alg, "ES256");
  ASSERT_EQ(header->x5c_der.size(), 2u);
  EXPECT_EQ(header->x5c_der[0], std::string("\x00\x01\x02", 3));
  EXPECT_EQ(header->x5c_der[1], "\xff");

  auto bare = ParseJwsHeader(R"({"alg":"none","crit":[]})");
  ASSERT_TRUE(bare.ok());
  EXPECT_TRUE(bare->x5c_der.empty());
}

TEST(Jws, RefusesUnreadableHeaders) {
  for (const char* json : {"", "[]", "{}", R"({"alg":1})", R"({"alg":"ES256","x5c":"AAEC"})",
                           R"({"alg":"ES256","x5c":[1]})", R"({"alg":"ES256","x5c":["***"]})",
                           R"({"alg":"ES256","x5c":[""]})", R"({"alg":"ES256","crit":["b64"]})",
                           R"({"alg":"ES256","x":[[[[[[[[[[[]]]]]]]]]]]})"}) {
    auto header = ParseJwsHeader(json);
    ASSERT_FALSE(header.ok()) << json;
    EXPECT_EQ(header.status().code(), ErrorCode::kMalformed);
  }
}

TEST(Jws, EcdsaRawAndDerConvertBothWays) {
  std::string raw(64, '\0');
  raw[31] = 1;       // r = 1
  raw[32] = '\x80';  // s has its top bit set: DER needs a leading zero
  const auto der = EcdsaRawToDer(raw);
  ASSERT_TRUE(der.has_value());
  EXPECT_EQ(HexEncode(*der).substr(0, 12), "302602010102");
  EXPECT_EQ(EcdsaDerToRaw(*der), raw);
  EXPECT_FALSE(EcdsaRawToDer(std::string(63, 'a')).has_value());
  EXPECT_FALSE(EcdsaDerToRaw("garbage").has_value());
  EXPECT_FALSE(EcdsaDerToRaw(*der + "x").has_value());  // trailing bytes
}

X5cPolicy PolicyTrusting(const incoming::testing::ApplePki& pki) {
  X5cPolicy policy;
  policy.roots.push_back(Certificate::FromDer(pki.root.Der()).value());
  policy.leaf_oids = {std::string(incoming::testing::kAppleLeafOid)};
  policy.intermediate_oids = {std::string(incoming::testing::kAppleIntermediateOid)};
  return policy;
}

TEST(Jws, VerifiesAnX5cSignedJws) {
  const auto pki = incoming::testing::MakeApplePkiForTest();
  const std::string compact =
      incoming::testing::SignJwsForTest(pki, boost::json::parse(R"({"x":1})"));
  auto jws = ParseCompactJws(compact);
  ASSERT_TRUE(jws.ok());
  auto header = ParseJwsHeader(jws->header_json);
  ASSERT_TRUE(header.ok());
  const TimePoint at = TimePoint(seconds(1'700'000'000));
  const Status ok = VerifyEs256X5c(*jws, *header, PolicyTrusting(pki), at);
  EXPECT_TRUE(ok.ok()) << ok.ToString();

  CompactJws flipped = *jws;
  flipped.signature[10] ^= 1;
  EXPECT_EQ(VerifyEs256X5c(flipped, *header, PolicyTrusting(pki), at).code(),
            ErrorCode::kUnauthenticated);
  // Outside the certificates' validity.
  EXPECT_FALSE(
      VerifyEs256X5c(*jws, *header, PolicyTrusting(pki), TimePoint(seconds(1'000'000'000))).ok());
  // The x5c root is never trusted for itself.
  X5cPolicy no_roots = PolicyTrusting(pki);
  no_roots.roots.clear();
  EXPECT_FALSE(VerifyEs256X5c(*jws, *header, no_roots, at).ok());
}

}  // namespace
}  // namespace ulak::crypto
