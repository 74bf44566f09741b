#include "http/router.h"

#include <gtest/gtest.h>

namespace ulak::http {
namespace {

Response Dispatched(const Router& router, Method method, std::string path) {
  Request req;
  req.method = method;
  req.path = std::move(path);
  Response out;
  router.Dispatch(std::move(req), [&out](Response&& r) { out = std::move(r); });
  return out;
}

TEST(Router, MatchesLiteralAndParameterSegments) {
  Router router;
  std::string seen;
  router.Add(Method::kGet, "/api/organizations/{id}/keys/{key_id}",
             [&](Request&&, const PathParams& p, Reply reply) {
               seen = p.Get("id") + "|" + p.Get("key_id");
               reply(Response{});
             });
  EXPECT_EQ(Dispatched(router, Method::kGet, "/api/organizations/o1/keys/k1").status, 200);
  EXPECT_EQ(seen, "o1|k1");
  EXPECT_EQ(Dispatched(router, Method::kGet, "/api/organizations/o1/keys/k1/").status, 200);
}

TEST(Router, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  Router router;
  router.Add(Method::kGet, "/a", [](Request&&, const PathParams&, Reply r) { r(Response{}); });
  router.Add(Method::kPost, "/a", [](Request&&, const PathParams&, Reply r) { r(Response{}); });
  Response missing = Dispatched(router, Method::kGet, "/b");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("\"code\":\"not_found\""), std::string::npos);
  Response wrong = Dispatched(router, Method::kDelete, "/a");
  EXPECT_EQ(wrong.status, 405);
  ASSERT_EQ(wrong.headers.size(), 1u);
  EXPECT_EQ(wrong.headers[0].value, "GET, POST");
  EXPECT_EQ(Dispatched(router, Method::kHead, "/a").status, 200);  // HEAD served by GET
}

// Found by fuzz_api: a path with bytes that are not UTF-8 ("/a%CC") was echoed raw into the
// 404's message, so the error answer was not valid JSON.
TEST(Router, NotFoundForAPathThatIsNotUtf8IsStillValidJson) {
  Router router;
  Response missing = Dispatched(router, Method::kGet, std::string("/a\xcc\xcc/\xc3\xa7"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("/a\\ufffd\\ufffd/\xc3\xa7."), std::string::npos) << missing.body;
}

TEST(Message, ParsesQueryWithEscapes) {
  auto q = ParseQuery("a=1&b=x%20y+z&empty=&flag&c=%zz");
  ASSERT_EQ(q.size(), 5u);
  EXPECT_EQ(q[1].second, "x y z");
  EXPECT_EQ(q[2].second, "");
  EXPECT_EQ(q[3].first, "flag");
  EXPECT_EQ(q[4].second, "%zz");
}

}  // namespace
}  // namespace ulak::http
