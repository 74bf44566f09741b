#include "api/json_io.h"

#include <gtest/gtest.h>

namespace ulak::api {
namespace {

TEST(ParseJsonObject, ReportsLineAndColumnOfTheError) {
  Result<boost::json::object> r = ParseJsonObject("{\n  \"a\": 1,\n  oops\n}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kMalformed);
  EXPECT_NE(r.status().message().find("line 3, column 3"), std::string::npos) << r.status().message();
}

TEST(ParseJsonObject, RejectsTrailingDataEmptyBodiesAndNonObjects) {
  EXPECT_EQ(ParseJsonObject("{} {}").status().code(), ErrorCode::kMalformed);
  EXPECT_EQ(ParseJsonObject("").status().code(), ErrorCode::kMalformed);
  EXPECT_EQ(ParseJsonObject("[1]").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(ParseJsonObject(" {\"a\":1} \n").ok());
}

TEST(FieldReaders, NameTheFieldOnWrongTypeOrRange) {
  boost::json::object obj = *ParseJsonObject(R"({"s": 1, "n": "x", "b": 2, "big": 100, "ok": "v"})");
  Status s = RequireString(obj, "s").status();
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("s must be a string"), std::string::npos);
  EXPECT_EQ(OptionalInt(obj, "n", 0, 10).status().field(), "n");
  EXPECT_EQ(OptionalBool(obj, "b").status().field(), "b");
  EXPECT_NE(OptionalInt(obj, "big", 1, 60).status().message().find("between 1 and 60"), std::string::npos);
  EXPECT_EQ(*RequireString(obj, "ok"), "v");
  EXPECT_FALSE(OptionalString(obj, "absent")->has_value());
  EXPECT_EQ(RequireString(obj, "absent").status().message(), "absent is required.");
}

// Found by fuzz_api: "timeout_seconds": 1e999 (infinity once parsed) was cast to an integer,
// which is undefined behaviour. Doubles are checked before any cast.
TEST(FieldReaders, IntegersOutOfRangeOfInt64AreRefusedWithoutACast) {
  boost::json::object obj = *ParseJsonObject(
      R"({"inf": 1e999, "ninf": -1e999, "huge": 1e300, "edge": 9223372036854775808.0, "low": -9.3e18,)"
      R"( "frac": 2.5, "whole": 30.0, "min": -9223372036854775808.0})");
  for (const char* field : {"inf", "ninf", "huge", "edge", "low", "frac"}) {
    Status s = OptionalInt(obj, field, 1, 60).status();
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << field;
    EXPECT_EQ(s.field(), field);
    EXPECT_NE(s.message().find("must be an integer"), std::string::npos) << s.message();
  }
  EXPECT_EQ(**OptionalInt(obj, "whole", 1, 60), 30);
  EXPECT_EQ(**OptionalInt(obj, "min", INT64_MIN, 0), INT64_MIN);
}

// Found by fuzz_api: an Idempotency-Key header and an incoming provider's id header with bytes
// that are not UTF-8 were written raw into JSON answers (GET /api/incoming/logs), which then
// did not parse. Such header text is now checked with IsUtf8 or made valid with ToUtf8.
TEST(Utf8, ChecksAndRepairsHeaderText) {
  EXPECT_TRUE(IsUtf8(""));
  EXPECT_TRUE(IsUtf8("order-7 \xc3\xa7\xe2\x82\xac\xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsUtf8("\xff\xfe"));
  EXPECT_FALSE(IsUtf8("a\xcc"));
  EXPECT_FALSE(IsUtf8("\xed\xa0\x80"));  // a surrogate
  EXPECT_EQ(ToUtf8("ok \xc3\xa7"), "ok \xc3\xa7");
  EXPECT_EQ(ToUtf8("a\xff" "b"), "a\xef\xbf\xbd" "b");
  EXPECT_EQ(ToUtf8("\xc0\xaf"), "\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_TRUE(IsUtf8(ToUtf8("\x80\xff\xf4\x90\x80\x80 x")));
}

}  // namespace
}  // namespace ulak::api
