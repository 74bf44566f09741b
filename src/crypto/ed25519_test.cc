#include "crypto/ed25519.h"

#include <gtest/gtest.h>

#include "crypto/encoding.h"

namespace ulak::crypto {
namespace {

// RFC 8032 §7.1, TEST 1 and TEST 2.
TEST(Ed25519, SignsRfc8032Vectors) {
  auto key = Ed25519PrivateKey::FromSeed(
      *HexDecode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(HexEncode(key->public_key()), "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  EXPECT_EQ(HexEncode(key->Sign("")),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0"
            "595bbe24655141438e7a100b");
  auto key2 = Ed25519PrivateKey::FromSeed(
      *HexDecode("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"));
  ASSERT_TRUE(key2.ok());
  const std::string message = *HexDecode("72");
  EXPECT_EQ(HexEncode(key2->Sign(message)),
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4"
            "302aeeb00d291612bb0c00");
  EXPECT_TRUE(Ed25519Verify(key2->public_key(), message, key2->Sign(message)));
  EXPECT_FALSE(Ed25519Verify(key2->public_key(), "73", key2->Sign(message)));
  EXPECT_FALSE(Ed25519Verify(key->public_key(), message, key2->Sign(message)));
}

TEST(Ed25519, RefusesSeedsOfTheWrongLength) {
  EXPECT_EQ(Ed25519PrivateKey::FromSeed("short").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(Ed25519Verify("short", "m", std::string(64, 'x')));
}

}  // namespace
}  // namespace ulak::crypto
