#include "store/idempotency_key.h"

#include <gtest/gtest.h>

#include "crypto/encoding.h"

namespace ulak::store {
namespace {

TEST(IdempotencyKeyTest, IsSixteenBytesOfSha256OverOrganizationNulEventId) {
  const std::string key = IdempotencyKey("org", "evt_1");
  ASSERT_EQ(key.size(), kIdempotencyKeyBytes);
  // printf 'org\0evt_1' | sha256sum | cut -c1-32 (PostgreSQL's migration 0013 computes the same).
  EXPECT_EQ(crypto::HexEncode(key), "b5bcf0fbae9574ec492cd8a0ade0b062");
  EXPECT_NE(IdempotencyKey("org", "evt_2"), key);
  EXPECT_NE(IdempotencyKey("orge", "vt_1"), key);  // the NUL keeps the two texts apart
}

}  // namespace
}  // namespace ulak::store
