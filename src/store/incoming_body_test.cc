#include "store/incoming_body.h"

#include <gtest/gtest.h>

namespace ulak::store {
namespace {

const std::string kPayload =
    R"({"event":"customer.updated","timestamp":"2026-01-01T00:00:00.000Z","organization_id":"o",)"
    R"("data":{"id":"evt_1","object":"event","data":{"a b":[1,2,{}],"s":"x \" y"},"n":null},"metadata":{}})";

TEST(IncomingBodyTest, APrettyPrintedBodyIsRebuiltByteForByte) {
  const std::string body =
      "{\n  \"id\": \"evt_1\",\n  \"object\": \"event\",\n  \"data\": {\n    \"a b\": [\n      1,\n      2,\n"
      "      {}\n    ],\n    \"s\": \"x \\\" y\"\n  },\n  \"n\": null\n}\n";
  std::optional<std::string> delta = EncodeBodyDelta(body, kPayload);
  ASSERT_TRUE(delta.has_value());
  EXPECT_LT(delta->size(), body.size() / 2);
  Result<std::string> rebuilt = ApplyBodyDelta(*delta, kPayload);
  ASSERT_TRUE(rebuilt.ok());
  EXPECT_EQ(*rebuilt, body);
}

TEST(IncomingBodyTest, ACompactBodyAndOddWhitespaceAreRebuilt) {
  for (const std::string& body :
       {std::string(R"({"id":"evt_1","object":"event","data":{"a b":[1,2,{}],"s":"x \" y"},"n":null})"),
        std::string("\r\n\t{\"id\" :\t\"evt_1\",\"object\":\"event\",\"data\":{\"a b\":[1,2,{}],\"s\":\"x \\\" y\"},"
                    "\"n\":null}  \r\n")}) {
    std::optional<std::string> delta = EncodeBodyDelta(body, kPayload);
    ASSERT_TRUE(delta.has_value()) << body;
    EXPECT_EQ(*ApplyBodyDelta(*delta, kPayload), body);
  }
}

TEST(IncomingBodyTest, ABodyThatDiffersInMoreThanWhitespaceHasNoDelta) {
  // Another escape, another number form, another key order, or a body that is not the data.
  EXPECT_FALSE(EncodeBodyDelta(R"({"id":"evt\u005f1","object":"event"})", kPayload));
  EXPECT_FALSE(EncodeBodyDelta(R"({"id":"evt_1","object":"event","data":{"a b":[1.0,2,{}]}})", kPayload));
  EXPECT_FALSE(EncodeBodyDelta(R"({"object":"event","id":"evt_1"})", kPayload));
  EXPECT_FALSE(EncodeBodyDelta(R"({"signedPayload":"eyJ"})", kPayload));
  EXPECT_FALSE(EncodeBodyDelta("", kPayload));
  EXPECT_FALSE(EncodeBodyDelta(R"({"id":"evt_1"})", "{}"));  // no data in the payload
}

// Long bodies: the encoder compares 64-byte blocks first, so whitespace and differences are
// put just before, on and after block boundaries.
TEST(IncomingBodyTest, LongBodiesRoundTripWithWhitespaceAtEveryBoundary) {
  std::string data = R"({"pad":")" + std::string(300, 'x') + R"(","k":[1,2,3]})";
  const std::string payload = R"({"event":"e","timestamp":"t","organization_id":"o","data":)" + data + "}";
  for (size_t at = 1; at + 1 < data.size(); ++at) {
    if (data[at - 1] != ',' && data[at - 1] != ':' && data[at - 1] != '"' && at % 61 != 0) continue;
    std::string body = data;
    body.insert(at, at % 2 == 0 ? "\n  " : " ");
    std::optional<std::string> delta = EncodeBodyDelta(body, payload);
    ASSERT_TRUE(delta.has_value()) << at;
    EXPECT_EQ(*ApplyBodyDelta(*delta, payload), body) << at;
  }
  for (size_t at : {0, 63, 64, 65, 127, 128, 200, 310}) {
    std::string body = data;
    body[at] = body[at] == 'y' ? 'z' : 'y';  // not whitespace: no delta
    EXPECT_FALSE(EncodeBodyDelta(body, payload)) << at;
  }
  EXPECT_FALSE(EncodeBodyDelta(data + "x", payload));  // longer than the data
}

TEST(IncomingBodyTest, ADamagedDeltaIsAnErrorNotACrash) {
  const std::string body = "{\n  \"id\": \"evt_1\"";
  std::optional<std::string> delta = EncodeBodyDelta(body, kPayload);
  ASSERT_TRUE(delta.has_value());
  EXPECT_EQ(*ApplyBodyDelta(*delta, kPayload), body);
  EXPECT_EQ(ApplyBodyDelta(*delta, "{}").status().code(), ErrorCode::kInternal);  // another payload
  EXPECT_EQ(ApplyBodyDelta("", kPayload).status().code(), ErrorCode::kInternal);
  EXPECT_EQ(ApplyBodyDelta(delta->substr(0, delta->size() - 1), kPayload).status().code(), ErrorCode::kInternal);
  EXPECT_EQ(ApplyBodyDelta(std::string("\x02") + delta->substr(1), kPayload).status().code(), ErrorCode::kInternal);
}

}  // namespace
}  // namespace ulak::store
