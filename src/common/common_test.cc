#include <gtest/gtest.h>

#include <map>
#include <set>

#include "common/clock.h"
#include "common/config.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/random.h"
#include "common/status.h"

namespace ulak {
namespace {

Result<int> Half(int n) {
  if (n % 2 != 0) return InvalidArgument("odd");
  return n / 2;
}

Result<int> Quarter(int n) {
  ULAK_ASSIGN_OR_RETURN(int half, Half(n));
  return Half(half);
}

TEST(Status, ResultCarriesValueOrError) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.status().ToString(), "invalid_argument: odd");
}

TEST(Clock, ManualClockMovesOnlyWhenTold) {
  ManualClock clock(FromUnixMillis(1'000));
  EXPECT_EQ(clock.NowUnixMillis(), 1'000);
  clock.Advance(Millis(1'500));
  EXPECT_EQ(clock.NowUnixMillis(), 2'500);
  EXPECT_EQ(clock.NowUnixSeconds(), 2);
}

TEST(Clock, FormatsRfc3339InUtcWithMilliseconds) {
  EXPECT_EQ(FormatRfc3339(FromUnixMillis(1'704'189'600'123)), "2024-01-02T10:00:00.123Z");
  EXPECT_EQ(FormatRfc3339(FromUnixMillis(0)), "1970-01-01T00:00:00.000Z");
}

TEST(Ids, AreUuidV7SortedByCreationTime) {
  ManualClock clock;
  SeededRandomForTest random(7);
  std::string prev;
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    clock.Advance(Millis(1));
    const std::string id = NewId(clock, random);
    EXPECT_TRUE(LooksLikeId(id)) << id;
    EXPECT_EQ(id[14], '7');  // version nibble
    EXPECT_GT(id, prev);
    prev = id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 100u);
  EXPECT_FALSE(LooksLikeId("not-an-id"));
  EXPECT_FALSE(LooksLikeId("0189ABCD-0000-7000-8000-000000000000"));  // uppercase
}

TEST(Random, SeededSourceIsDeterministic) {
  SeededRandomForTest a(3), b(3);
  EXPECT_EQ(a.Bytes(40), b.Bytes(40));
  const double u = a.Unit();
  EXPECT_GE(u, 0.0);
  EXPECT_LT(u, 1.0);
  EXPECT_NE(SystemRandom::Instance().Bytes(32), SystemRandom::Instance().Bytes(32));
}

TEST(Log, WritesOneJsonObjectPerLineWithRequestId) {
  std::vector<std::string> lines;
  SetLogSinkForTest([&](std::string_view l) { lines.emplace_back(l); });
  {
    ScopedRequestId rid("req-1");
    Log(LogLevel::kInfo, "hello \"world\"", {{"n", 3}, {"ok", true}, {"s", "a\nb"}});
  }
  Log(LogLevel::kDebug, "hidden at info level");
  SetLogSinkForTest(nullptr);
  ASSERT_EQ(lines.size(), 1u);
  const std::string& l = lines[0];
  EXPECT_EQ(l.back(), '\n');
  EXPECT_NE(l.find(R"("msg":"hello \"world\"")"), std::string::npos) << l;
  EXPECT_NE(l.find(R"("request_id":"req-1")"), std::string::npos) << l;
  EXPECT_NE(l.find(R"("n":3,"ok":true,"s":"a\nb")"), std::string::npos) << l;
}

// Found by fuzz_api: bytes that are not UTF-8 (a request path may carry any) made the JSON
// that error answers and log lines are built with invalid.
TEST(Log, JsonEscapingReplacesWhatIsNotUtf8) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"plain \"q\" \\ \n", "plain \\\"q\\\" \\\\ \\n"},
      {"\xc3\xa7\xe2\x82\xac\xf0\x9f\x98\x80", "\xc3\xa7\xe2\x82\xac\xf0\x9f\x98\x80"},  // ç € 😀 kept
      {"a\xcc", "a\\ufffd"},                 // truncated
      {"\x80x", "\\ufffdx"},                 // stray continuation byte
      {"\xc0\xaf", "\\ufffd\\ufffd"},         // overlong '/'
      {"\xed\xa0\x80", "\\ufffd\\ufffd\\ufffd"},  // a surrogate
      {"\xf4\x90\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd"},  // beyond U+10FFFF
      {"\xff", "\\ufffd"},
  };
  for (const auto& [in, want] : cases) {
    std::string out;
    AppendJsonEscaped(out, in);
    EXPECT_EQ(out, want) << in;
  }
}

TEST(Config, LayersAreDefaultsThenFileThenEnvironment) {
  Config c;
  std::map<std::string, std::string> env = {{"ULAK_LISTEN", "0.0.0.0:9000"}, {"ULAK_MODE", "production"}};
  ASSERT_TRUE(ApplyEnvironment([&](const char* n) -> std::optional<std::string> {
                auto it = env.find(n);
                if (it == env.end()) return std::nullopt;
                return it->second;
              }, c).ok());
  EXPECT_EQ(c.listen, "0.0.0.0:9000");
  EXPECT_EQ(c.mode, Mode::kProduction);
  EXPECT_EQ(c.database, "sqlite:./data/ulak.db");

  env = {{"ULAK_MODE", "staging"}};
  Status bad = ApplyEnvironment([&](const char* n) -> std::optional<std::string> {
    auto it = env.find(n);
    if (it == env.end()) return std::nullopt;
    return it->second;
  }, c);
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("ULAK_MODE"), std::string::npos);
}

TEST(Config, ParsesHostPort) {
  auto hp = ParseHostPort("127.0.0.1:8080");
  ASSERT_TRUE(hp.ok());
  EXPECT_EQ(hp->first, "127.0.0.1");
  EXPECT_EQ(hp->second, 8080);
  EXPECT_EQ(ParseHostPort("[::1]:0")->first, "::1");
  EXPECT_FALSE(ParseHostPort("8080").ok());
  EXPECT_FALSE(ParseHostPort("host:99999").ok());
}

}  // namespace
}  // namespace ulak

namespace ulak {
namespace {

TEST(Clock, ParsesRfc3339AndUnixSeconds) {
  EXPECT_EQ(ToUnixMillis(*ParseTime("2024-01-02T10:00:00.123Z")), 1'704'189'600'123);
  EXPECT_EQ(ToUnixMillis(*ParseTime("2024-01-02T13:00:00+03:00")), 1'704'189'600'000);
  EXPECT_EQ(ToUnixMillis(*ParseTime("1704189600")), 1'704'189'600'000);
  EXPECT_FALSE(ParseTime("yesterday").has_value());
  EXPECT_FALSE(ParseTime("2024-13-02T10:00:00Z").has_value());
  EXPECT_FALSE(ParseTime("2024-01-02T10:00:00").has_value());
}

// Found by fuzz_api: "from=1010-01-01T00:00:00Z" overflowed the conversion to a TimePoint
// (nanoseconds, 1677..2262): undefined behaviour. Such instants are refused instead.
TEST(Clock, ParseTimeRefusesInstantsATimePointCannotHold) {
  EXPECT_FALSE(ParseTime("1010-01-01T00:00:00Z").has_value());
  EXPECT_FALSE(ParseTime("0000-01-01T00:00:00Z").has_value());
  EXPECT_FALSE(ParseTime("9999-12-31T23:59:59Z").has_value());
  EXPECT_FALSE(ParseTime("2200-01-01T00:00:01Z").has_value());
  EXPECT_FALSE(ParseTime("99999999999999").has_value());
  EXPECT_FALSE(ParseTime("9223372036854775807").has_value());
  EXPECT_EQ(ToUnixMillis(*ParseTime("1900-01-01T00:00:00Z")), -2'208'988'800'000);
  EXPECT_EQ(ToUnixMillis(*ParseTime("2200-01-01T00:00:00Z")), 7'258'118'400'000);
  EXPECT_EQ(ToUnixMillis(*ParseTime("7258118400")), 7'258'118'400'000);
}

}  // namespace
}  // namespace ulak

#include "common/event_pattern.h"

namespace ulak {
namespace {

TEST(EventPattern, ExactPrefixWildcardAndStar) {
  EXPECT_TRUE(EventMatches("order.created", "order.created"));
  EXPECT_FALSE(EventMatches("order.created", "order.updated"));
  EXPECT_TRUE(EventMatches("order.*", "order.created"));
  EXPECT_TRUE(EventMatches("order.*", "order.item.added"));
  EXPECT_FALSE(EventMatches("order.*", "order"));
  EXPECT_FALSE(EventMatches("order.*", "orders.created"));
  EXPECT_TRUE(EventMatches("*", "anything"));
}

}  // namespace
}  // namespace ulak
