#include "delivery/signer.h"

#include <gtest/gtest.h>

#include "crypto/encoding.h"
#include "delivery/webhook_config.h"

namespace ulak::delivery {
namespace {

constexpr char kSeedSecret[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

TEST(Signer, Seed001SignatureMatchesThePublishedVector) {
  EXPECT_EQ(SignatureSeed001(kSeedSecret, R"({"event":"order.created"})"),
            "a615736db7eef5c7a169f25dc698ff3abf8f58383d13fbefa9d474cee462fe94");
}

TEST(Signer, StandardSignatureMatchesTheStandardWebhooksVector) {
  // whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw decodes to 24 bytes; express them as hex.
  const std::string hex = crypto::HexEncode(*crypto::Base64Decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
  EXPECT_EQ(SignatureStandard(hex, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, R"({"test": 2432232314})"),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  EXPECT_EQ(StandardWebhooksSecret(hex), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
}

TEST(Signer, NewSecretIs64LowercaseHexCharacters) {
  SeededRandomForTest random(5);
  const std::string s = NewSecretKey(random);
  ASSERT_EQ(s.size(), 64u);
  EXPECT_EQ(s.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(StandardWebhooksSecret(s).size(), 6u + 44u);
}

TEST(Signer, SigningKeyRoundTripsAndItsPublicKeyVerifiesV1aSignatures) {
  SeededRandomForTest random(6);
  const std::string whsk = NewSigningKey(random);
  ASSERT_EQ(whsk.rfind("whsk_", 0), 0u);
  EXPECT_EQ(crypto::Base64Decode(whsk.substr(5))->size(), 64u);
  Result<crypto::Ed25519PrivateKey> key = ParseSigningKey(whsk);
  ASSERT_TRUE(key.ok()) << key.status().message();
  const std::string whpk = SigningPublicKey(whsk);
  ASSERT_EQ(whpk.rfind("whpk_", 0), 0u);
  const std::string public_key = *crypto::Base64Decode(whpk.substr(5));
  EXPECT_EQ(public_key.size(), 32u);

  const std::string entry = SignatureEd25519(*key, "msg_1", 1614265330, R"({"a":1})");
  ASSERT_EQ(entry.rfind("v1a,", 0), 0u);
  const std::string signature = *crypto::Base64Decode(entry.substr(4));
  EXPECT_TRUE(crypto::Ed25519Verify(public_key, R"(msg_1.1614265330.{"a":1})", signature));
  EXPECT_FALSE(crypto::Ed25519Verify(public_key, R"(msg_1.1614265330.{"a":2})", signature));
}

TEST(Signer, MalformedSigningKeysAreRefused) {
  EXPECT_FALSE(ParseSigningKey("").ok());
  EXPECT_FALSE(ParseSigningKey("whsec_" + std::string(86, 'A')).ok());
  EXPECT_FALSE(ParseSigningKey("whsk_" + crypto::Base64Encode(std::string(32, 'x'))).ok());  // seed only
  // A public half that does not belong to the seed.
  EXPECT_FALSE(ParseSigningKey("whsk_" + crypto::Base64Encode(std::string(64, 'x'))).ok());
  EXPECT_EQ(SigningPublicKey("whsk_nope"), "");
}

store::Webhook Ed25519Webhook(Random& random) {
  store::Webhook w;
  w.id = "wh";
  w.secret_key = NewSecretKey(random);
  w.events_json = "[\"*\"]";
  w.custom_headers_json = "{}";
  w.retry_policy_json = "{\"kind\":\"fixed\",\"delays_s\":[60]}";
  w.signature_scheme = "ed25519";
  w.signing_key = NewSigningKey(random);
  return w;
}

TEST(Signer, Ed25519WebhookSignsV1aOnlyAndBothKeysDuringTheGracePeriod) {
  SeededRandomForTest random(7);
  store::Webhook w = Ed25519Webhook(random);
  const TimePoint now = TimePoint(std::chrono::seconds(1'750'000'000));
  auto config = ParseWebhookConfig(w);
  ASSERT_TRUE(config.ok()) << config.status().message();
  const std::string one = WebhookSignatureHeader(**config, "msg_1", 1, "{}", now);
  EXPECT_EQ(one.rfind("v1a,", 0), 0u);
  EXPECT_EQ(one.find(' '), std::string::npos);
  EXPECT_EQ(one.find("v1,"), std::string::npos);

  w.previous_signing_key = w.signing_key;
  w.signing_key = NewSigningKey(random);
  w.previous_secret_expires_at = now + std::chrono::hours(1);
  config = ParseWebhookConfig(w);
  ASSERT_TRUE(config.ok());
  const std::string both = WebhookSignatureHeader(**config, "msg_1", 1, "{}", now);
  ASSERT_NE(both.find(' '), std::string::npos);
  EXPECT_EQ(both.substr(0, both.find(' ')), SignatureEd25519(*ParseSigningKey(w.signing_key), "msg_1", 1, "{}"));
  EXPECT_EQ(both.substr(both.find(' ') + 1),
            SignatureEd25519(*ParseSigningKey(w.previous_signing_key), "msg_1", 1, "{}"));
  // After the grace period, the new key alone.
  EXPECT_EQ(WebhookSignatureHeader(**config, "msg_1", 1, "{}", now + std::chrono::hours(2)), both.substr(0, both.find(' ')));
}

TEST(Signer, HmacKeysPreparedWithTheConfigSignAsTheSecretStringsDo) {
  SeededRandomForTest random(9);
  store::Webhook w = Ed25519Webhook(random);
  w.signature_scheme = "hmac";
  w.signing_key.clear();
  w.previous_secret_key = NewSecretKey(random);
  const TimePoint now = TimePoint(std::chrono::seconds(1'750'000'000));
  w.previous_secret_expires_at = now + std::chrono::hours(1);
  auto config = ParseWebhookConfig(w);
  ASSERT_TRUE(config.ok()) << config.status().message();
  ASSERT_NE((*config)->seed001_key, nullptr);
  ASSERT_NE((*config)->standard_key, nullptr);
  ASSERT_NE((*config)->previous_standard_key, nullptr);
  const std::string body = R"({"event":"order.created"})";
  EXPECT_EQ(WebhookSignatureSeed001(**config, body), SignatureSeed001(w.secret_key, body));
  EXPECT_EQ(WebhookSignatureHeader(**config, "msg_1", 1700000000, body, now),
            SignatureStandard(w.secret_key, "msg_1", 1700000000, body) + " " +
                SignatureStandard(w.previous_secret_key, "msg_1", 1700000000, body));
  // A config built by hand (no prepared keys) signs the same from the record's strings.
  WebhookConfig by_hand;
  by_hand.record = w;
  EXPECT_EQ(WebhookSignatureSeed001(by_hand, body), SignatureSeed001(w.secret_key, body));
  EXPECT_EQ(WebhookSignatureHeader(by_hand, "msg_1", 1700000000, body, now),
            WebhookSignatureHeader(**config, "msg_1", 1700000000, body, now));
}

TEST(Signer, UnusableStoredSigningKeyFailsTheConfigInsteadOfSigningBadly) {
  SeededRandomForTest random(8);
  store::Webhook w = Ed25519Webhook(random);
  w.signing_key = "whsk_broken";
  EXPECT_EQ(ParseWebhookConfig(w).status().code(), ErrorCode::kInternal);
  w = Ed25519Webhook(random);
  w.signature_scheme = "rsa";
  EXPECT_EQ(ParseWebhookConfig(w).status().code(), ErrorCode::kInternal);
}

}  // namespace
}  // namespace ulak::delivery
