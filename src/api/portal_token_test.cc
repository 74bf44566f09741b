#include "api/portal_token.h"

#include <gtest/gtest.h>

namespace ulak::api {
namespace {

const TimePoint kNow = FromUnixMillis(1'700'000'000'000);

TEST(PortalToken, RoundTripsItsClaims) {
  const std::string token = SignPortalToken("key", {"org-1", kNow + std::chrono::hours(1), 3});
  Result<PortalClaims> claims = VerifyPortalToken("key", token, kNow);
  ASSERT_TRUE(claims.ok()) << claims.status().message();
  EXPECT_EQ(claims->organization_id, "org-1");
  EXPECT_EQ(claims->generation, 3);
  EXPECT_EQ(claims->expires_at, kNow + std::chrono::hours(1));
}

TEST(PortalToken, RefusesExpiredTamperedAndForeignKeyTokens) {
  const std::string token = SignPortalToken("key", {"org-1", kNow + std::chrono::hours(1), 0});
  EXPECT_EQ(VerifyPortalToken("key", token, kNow + std::chrono::hours(1)).status().code(),
            ErrorCode::kUnauthenticated);
  EXPECT_EQ(VerifyPortalToken("other key", token, kNow).status().code(), ErrorCode::kUnauthenticated);
  std::string other_org = token;
  other_org.replace(other_org.find("org-1"), 5, "org-2");
  EXPECT_EQ(VerifyPortalToken("key", other_org, kNow).status().code(), ErrorCode::kUnauthenticated);
  std::string longer = token;
  longer.replace(longer.find(".0."), 3, ".1.");
  EXPECT_EQ(VerifyPortalToken("key", longer, kNow).status().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(VerifyPortalToken("key", "ulak_portal_", kNow).status().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(VerifyPortalToken("", token, kNow).status().code(), ErrorCode::kUnauthenticated);
}

}  // namespace
}  // namespace ulak::api
