#include "incoming/signature_headers.h"

#include <gtest/gtest.h>

namespace ulak::incoming {
namespace {

TEST(IncomingSignatureHeaders, StripeCollectsEveryDecodableV1) {
  auto parsed = ParseStripeSignature("t=12, v1=00ff ,v0=zz,v1=AB,v1=xyz,scheme=anything");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->timestamp, 12);
  ASSERT_EQ(parsed->v1.size(), 2u);
  EXPECT_EQ(parsed->v1[0], std::string("\x00\xff", 2));
  EXPECT_EQ(parsed->v1[1], "\xab");
}

TEST(IncomingSignatureHeaders, StripeRefusesWhatIsNotAKeyValueListWithOneTimestamp) {
  for (const char* header : {"", ",", "t", "t=", "t=1,t=1", "t=1e3", "t=+1", "v1=00",
                             "t=1234567890123456789", "t=1,v1"}) {
    EXPECT_FALSE(ParseStripeSignature(header).has_value()) << header;
  }
}

TEST(IncomingSignatureHeaders, StandardKeepsV1EntriesOnly) {
  const auto sigs = ParseStandardSignatures("v1,AAEC  v1a,AAEC v2,AAEC v1,/w== v1,@@ junk v1");
  ASSERT_EQ(sigs.size(), 2u);
  EXPECT_EQ(sigs[0], std::string("\x00\x01\x02", 3));
  EXPECT_EQ(sigs[1], "\xff");
}

TEST(IncomingSignatureHeaders, UnixSecondsAreDigitsOnly) {
  EXPECT_EQ(ParseUnixSeconds("0"), 0);
  EXPECT_EQ(ParseUnixSeconds("1614265330"), 1614265330);
  EXPECT_EQ(ParseUnixSeconds("999999999999999999"), 999999999999999999);
  for (const char* bad : {"", " 1", "1 ", "-1", "+1", "0x10", "1.0", "1234567890123456789"}) {
    EXPECT_FALSE(ParseUnixSeconds(bad).has_value()) << bad;
  }
}

TEST(IncomingSignatureHeaders, HmacStripsPrefixAndDecodes) {
  using Encoding = SourceOptions::Encoding;
  EXPECT_EQ(ParseHmacSignature(" sha256=00ff\t", "sha256=", Encoding::kHex),
            std::string("\x00\xff", 2));
  EXPECT_EQ(ParseHmacSignature("/w==", "", Encoding::kBase64), "\xff");
  EXPECT_FALSE(ParseHmacSignature("00ff", "sha256=", Encoding::kHex).has_value());
  EXPECT_FALSE(ParseHmacSignature("sha256=", "sha256=", Encoding::kHex).has_value());
  EXPECT_FALSE(ParseHmacSignature("0g", "", Encoding::kHex).has_value());
  EXPECT_FALSE(ParseHmacSignature("", "", Encoding::kBase64).has_value());
}

}  // namespace
}  // namespace ulak::incoming
