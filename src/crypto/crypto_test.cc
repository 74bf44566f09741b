// Known answers from the providers' documentation (shared/VECTORS.md).
#include <gtest/gtest.h>

#include "crypto/encoding.h"
#include "crypto/hash.h"

namespace ulak::crypto {
namespace {

TEST(Hmac, Seed001SignatureVector) {
  EXPECT_EQ(HexEncode(HmacSha256("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                                 R"({"event":"order.created"})")),
            "a615736db7eef5c7a169f25dc698ff3abf8f58383d13fbefa9d474cee462fe94");
}

TEST(Hmac, GitHubVector) {
  EXPECT_EQ(HexEncode(HmacSha256("It's a Secret to Everybody", "Hello, World!")),
            "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
}

TEST(Hmac, StandardWebhooksVector) {
  const auto key = Base64Decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(Base64Encode(HmacSha256(*key, R"(msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test": 2432232314})")),
            "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST(Encoding, HexAndBase64RoundTrip) {
  const std::string bytes("\x00\x01\xfe\xff xyz", 8);
  EXPECT_EQ(HexDecode(HexEncode(bytes)), bytes);
  EXPECT_EQ(Base64Decode(Base64Encode(bytes)), bytes);
  EXPECT_EQ(Base64Decode(Base64UrlEncode(bytes)), bytes);
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_FALSE(HexDecode("abc").has_value());
  EXPECT_FALSE(HexDecode("zz").has_value());
  EXPECT_FALSE(Base64Decode("a$==").has_value());
}

TEST(ConstantTimeEquals, ComparesWholeStrings) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace ulak::crypto
