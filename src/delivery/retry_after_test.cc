#include "delivery/retry_after.h"

#include <gtest/gtest.h>

namespace ulak::delivery {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

// 1994-11-06T08:49:37Z, the RFC's own example.
const TimePoint kExampleDate = TimePoint(seconds(784111777));

TEST(RetryAfterTest, DelaySecondsAreReadAsIs) {
  ManualClock clock;
  EXPECT_EQ(ParseRetryAfter("120", clock.Now()), milliseconds(120'000));
  EXPECT_EQ(ParseRetryAfter(" 0 ", clock.Now()), milliseconds(0));
}

TEST(RetryAfterTest, HttpDateInEveryFormIsAWaitFromNow) {
  ManualClock clock(kExampleDate - seconds(90));
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", clock.Now()), milliseconds(90'000));  // IMF-fixdate
  EXPECT_EQ(ParseRetryAfter("Sunday, 06-Nov-94 08:49:37 GMT", clock.Now()), milliseconds(90'000));  // RFC 850
  EXPECT_EQ(ParseRetryAfter("Sun Nov  6 08:49:37 1994", clock.Now()), milliseconds(90'000));  // asctime
}

TEST(RetryAfterTest, DateInThePastMeansNoWait) {
  ManualClock clock(kExampleDate + hours(1));
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", clock.Now()), milliseconds(0));
}

TEST(RetryAfterTest, MalformedValuesAreIgnored) {
  ManualClock clock;
  EXPECT_EQ(ParseRetryAfter("", clock.Now()), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("12s", clock.Now()), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-5", clock.Now()), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("soon", clock.Now()), std::nullopt);
}

TEST(RetryAfterTest, HugeDelaySecondsAreClampedNotRejected) {
  ManualClock clock;
  auto wait = ParseRetryAfter("99999999999999999999999", clock.Now());
  ASSERT_TRUE(wait.has_value());
  EXPECT_GT(*wait, hours(24 * 365));
}

TEST(RetryAfterTest, WaitIsNeverShorterThanThePolicyNorMoreThanAnHourBeyondIt) {
  EXPECT_EQ(DelayHonouringRetryAfter(seconds(60), seconds(10)), seconds(60));
  EXPECT_EQ(DelayHonouringRetryAfter(seconds(60), seconds(600)), seconds(600));
  EXPECT_EQ(DelayHonouringRetryAfter(seconds(60), hours(5)), seconds(60) + hours(1));
}

TEST(RetryAfterTest, OnlyTooManyRequestsAndUnavailableAreHonoured) {
  EXPECT_TRUE(HonoursRetryAfter(429));
  EXPECT_TRUE(HonoursRetryAfter(503));
  EXPECT_FALSE(HonoursRetryAfter(500));
  EXPECT_FALSE(HonoursRetryAfter(200));
}

}  // namespace
}  // namespace ulak::delivery
