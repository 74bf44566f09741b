#include "crypto/hmac_key.h"

#include <gtest/gtest.h>

#include "crypto/encoding.h"
#include "crypto/hash.h"

namespace ulak::crypto {
namespace {

TEST(HmacSha256KeyTest, MatchesOneShotHmacOverTheJoinedParts) {
  const HmacSha256Key key("It's a Secret to Everybody");
  // GitHub's published vector, in one part and in several.
  EXPECT_EQ(HexEncode(key.Sign({"Hello, World!"})),
            "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
  EXPECT_EQ(HexEncode(key.Sign({"Hello", ", ", "", "World!"})),
            "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
}

TEST(HmacSha256KeyTest, ReusableAndEqualToHmacSha256) {
  const std::string raw = std::string("\x00\x01\xff", 3) + std::string(100, 'k');  // longer than a block
  const HmacSha256Key key(raw);
  for (const std::string msg : {"", "a", "msg_1.1700000000.{\"n\":1}"}) {
    EXPECT_EQ(key.Sign({msg}), HmacSha256(raw, msg)) << msg;
  }
  const HmacSha256Key empty("");
  EXPECT_EQ(empty.Sign({"x"}), HmacSha256("", "x"));
}

}  // namespace
}  // namespace ulak::crypto
