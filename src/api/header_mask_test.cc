#include "api/header_mask.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

namespace ulak::api {
namespace {

TEST(HeaderMask, ShowsOnlyTheLastFourCharactersOfALongValue) {
  EXPECT_EQ(MaskHeaderValue("sk_live_1234567890"), "\u2022\u2022\u2022\u20227890");
  EXPECT_EQ(MaskHeaderValue("short-secret"), "\u2022\u2022\u2022\u2022cret");  // 12 characters
  EXPECT_EQ(MaskHeaderValue("eleven-char"), "\u2022\u2022\u2022\u2022");       // too short to show any
  EXPECT_EQ(MaskHeaderValue(""), "\u2022\u2022\u2022\u2022");
  EXPECT_EQ(boost::json::serialize(MaskedHeaders(R"({"X-API-Key":"sk_live_1234567890","X-A":"x"})")),
            R"({"X-API-Key":"••••7890","X-A":"••••"})");
}

TEST(HeaderMask, APatchSendingAMaskBackKeepsTheStoredValue) {
  const std::string stored = R"({"X-API-Key":"sk_live_1234567890","X-Old":"gone-after-patch"})";
  Result<std::string> kept = KeepMaskedHeaders(R"({"X-API-Key":"••••7890","X-New":"fresh"})", stored);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(*kept, R"({"X-API-Key":"sk_live_1234567890","X-New":"fresh"})");
  // A real new value replaces it.
  EXPECT_EQ(*KeepMaskedHeaders(R"({"X-API-Key":"sk_live_0000000000"})", stored), R"({"X-API-Key":"sk_live_0000000000"})");
  // A mask that matches nothing stored (another value's tail, another name) is refused.
  Result<std::string> wrong = KeepMaskedHeaders(R"({"X-API-Key":"••••1111"})", stored);
  EXPECT_EQ(wrong.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(wrong.status().field(), "custom_headers");
  EXPECT_FALSE(KeepMaskedHeaders(R"({"X-Other":"••••7890"})", stored).ok());
}

}  // namespace
}  // namespace ulak::api
