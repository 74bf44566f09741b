#include "shape/json_number.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cmath>
#include <limits>

namespace ulak::shape {
namespace {

std::string Js(double d) {
  std::string out;
  AppendJsNumber(out, d);
  return out;
}

// Parses with the digits kept and writes it back.
std::string RoundTrip(std::string_view text) {
  Result<ParsedJson> parsed = ParseJsonKeepingDigits(text);
  EXPECT_TRUE(parsed.ok()) << parsed.status().message();
  if (!parsed.ok()) return "";
  return SerializeJson(parsed->value, &parsed->digits);
}

TEST(JsonNumber, DoublesAreWrittenAsJsonStringifyWritesThem) {
  // Expected strings are what node prints for JSON.stringify(x).
  EXPECT_EQ(Js(89.9), "89.9");
  EXPECT_EQ(Js(179.8), "179.8");
  EXPECT_EQ(Js(2.0), "2");
  EXPECT_EQ(Js(0.1), "0.1");
  EXPECT_EQ(Js(1e21), "1e+21");
  EXPECT_EQ(Js(1e20), "100000000000000000000");
  EXPECT_EQ(Js(123456789012345680000.0), "123456789012345680000");
  EXPECT_EQ(Js(1e-7), "1e-7");
  EXPECT_EQ(Js(1e-6), "0.000001");
  EXPECT_EQ(Js(1.5e300), "1.5e+300");
  EXPECT_EQ(Js(-0.0), "0");
  EXPECT_EQ(Js(-1.25), "-1.25");
  EXPECT_EQ(Js(5e-324), "5e-324");
  EXPECT_EQ(Js(1.7976931348623157e308), "1.7976931348623157e+308");
  EXPECT_EQ(Js(123.456e-10), "1.23456e-8");
  EXPECT_EQ(Js(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(Js(std::nan("")), "null");
}

TEST(JsonNumber, SeedOrderRoundTripsWithItsNumbersIntact) {
  const std::string order =
      R"({"order_number":"ORD-2025-001","items":[{"name":"Margherita Pizza","quantity":2,"price":89.90}],)"
      R"("total_amount":179.80,"currency":"TRY"})";
  EXPECT_EQ(RoundTrip(order),
            R"({"order_number":"ORD-2025-001","items":[{"name":"Margherita Pizza","quantity":2,"price":89.9}],)"
            R"("total_amount":179.8,"currency":"TRY"})");
}

TEST(JsonNumber, IntegersAndInexactNumbersKeepThePublishersDigits) {
  EXPECT_EQ(RoundTrip(R"([12345678901234567890,-9223372036854775808,18446744073709551615])"),
            R"([12345678901234567890,-9223372036854775808,18446744073709551615])");
  EXPECT_EQ(RoundTrip(R"([0.1,1e-7,-0,-0.0,1.5e300,1E2,2.50])"), R"([0.1,1e-7,0,0,1.5e+300,100,2.5])");
  // Beyond what a double holds: the digits as sent.
  EXPECT_EQ(RoundTrip(R"({"big":123456789012345678901234567890,"long":0.10000000000000000000001})"),
            R"({"big":123456789012345678901234567890,"long":0.10000000000000000000001})");
  // Without the digits, Boost.JSON would have written 1.2345678901234568E29.
  boost::json::value plain = boost::json::parse("123456789012345678901234567890");
  EXPECT_EQ(SerializeJson(plain), "1.2345678901234568e+29");
}

TEST(JsonNumber, NumbersOutsideADoublesRangeAreRefusedByPath) {
  for (const char* text : {R"({"data":{"items":[{"x":1},{"x":1e999}]}})", R"({"data":{"items":[{},{"x":-1e999}]}})",
                           R"({"data":{"items":[0,{"x":1e-999}]}})"}) {
    Result<ParsedJson> parsed = ParseJsonKeepingDigits(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(parsed.status().field(), "data.items[1].x") << text;
  }
  const std::string huge = "{\"n\":1" + std::string(5000, '0') + "}";
  Result<NumberDigits> scanned = ScanNumbers(huge, "body");
  ASSERT_FALSE(scanned.ok());
  EXPECT_EQ(scanned.status().field(), "body.n");
  EXPECT_TRUE(ScanNumbers(R"({"zero":0.0e-999,"tiny":5e-324})").ok());
  // Boost.JSON reads 0e999 as NaN: refused too, never written as NaN.
  EXPECT_EQ(ScanNumbers(R"({"zero":0e999})").status().field(), "zero");
}

TEST(JsonNumber, StringsAreEscapedAsBoostJsonDoes) {
  boost::json::value v = boost::json::parse(R"({"a\"b":"line\nbreak\t\u0001 \\ é"})");
  EXPECT_EQ(SerializeJson(v), boost::json::serialize(v));
}

TEST(JsonNumber, FindsNonFiniteNumbersBuiltByHand) {
  boost::json::value v = boost::json::object{{"a", boost::json::array{1, std::numeric_limits<double>::infinity()}}};
  EXPECT_EQ(FindNonFiniteNumber(v, "data"), "data.a[1]");
  EXPECT_EQ(FindNonFiniteNumber(boost::json::object{{"a", 1.5}}, "data"), "");
}

}  // namespace
}  // namespace ulak::shape
