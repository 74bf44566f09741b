#include "delivery/signer.h"

#include <gtest/gtest.h>

#include "crypto/encoding.h"

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

}  // namespace
}  // namespace ulak::delivery
