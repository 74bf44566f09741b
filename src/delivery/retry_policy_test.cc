#include "delivery/retry_policy.h"

#include <gtest/gtest.h>

#include "common/clock.h"

namespace ulak::delivery {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Plays a delivery that always fails on a manual clock; returns when each attempt ran (s).
std::vector<double> AttemptTimes(const RetryPolicy& policy, bool retry_enabled, int max_retries, Random& random) {
  ManualClock clock(FromUnixMillis(0));
  std::vector<double> times;
  for (int attempts = 1;; ++attempts) {
    times.push_back(static_cast<double>(clock.NowUnixMillis()) / 1000.0);
    auto delay = DelayBeforeRetry(policy, retry_enabled, max_retries, attempts, random);
    if (!delay) break;
    clock.Advance(*delay);
    if (attempts > 100) ADD_FAILURE() << "never stops";
  }
  return times;
}

TEST(RetryPolicy, Seed001ScheduleAttemptsAt0_60_360_2160ThenFails) {
  SeededRandomForTest random(1);
  EXPECT_EQ(AttemptTimes(RetryPolicy{}, true, 3, random), (std::vector<double>{0, 60, 360, 2160}));
}

TEST(RetryPolicy, FixedRepeatsItsLastDelayWhenMaxRetriesIsLonger) {
  SeededRandomForTest random(1);
  EXPECT_EQ(AttemptTimes(RetryPolicy{}, true, 5, random), (std::vector<double>{0, 60, 360, 2160, 3960, 5760}));
  EXPECT_EQ(AttemptTimes(RetryPolicy{}, true, 1, random), (std::vector<double>{0, 60}));
}

TEST(RetryPolicy, CustomListIsUsedExactly) {
  RetryPolicy custom;
  custom.delays_s = {5, 10};
  SeededRandomForTest random(1);
  EXPECT_EQ(AttemptTimes(custom, true, 2, random), (std::vector<double>{0, 5, 15}));
}

TEST(RetryPolicy, Seed000ExponentialWaits1_2_4_8WithJitterAndStopsAfterFiveAttempts) {
  RetryPolicy exp;
  exp.kind = RetryPolicy::Kind::kExponential;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    SeededRandomForTest random(seed);
    const std::vector<double> t = AttemptTimes(exp, true, 3, random);  // max_retries ignored
    ASSERT_EQ(t.size(), 5u);
    const double nominal[] = {1, 2, 4, 8};
    for (int i = 0; i < 4; ++i) {
      const double gap = t[i + 1] - t[i];
      EXPECT_GE(gap, nominal[i] * 0.8 - 1e-3) << "seed " << seed << " retry " << i + 1;
      EXPECT_LE(gap, nominal[i] * 1.2 + 1e-3) << "seed " << seed << " retry " << i + 1;
    }
  }
}

TEST(RetryPolicy, ExponentialDelayIsCappedAtMaxDelay) {
  RetryPolicy exp;
  exp.kind = RetryPolicy::Kind::kExponential;
  exp.max_attempts = 12;
  SeededRandomForTest random(9);
  auto delay = DelayBeforeRetry(exp, true, 0, 10, random);  // nominal 512 s
  ASSERT_TRUE(delay.has_value());
  EXPECT_LE(*delay, milliseconds(72'000));
  EXPECT_GE(*delay, milliseconds(48'000));
}

TEST(RetryPolicy, RetryDisabledMeansOneTry) {
  SeededRandomForTest random(1);
  EXPECT_EQ(AttemptTimes(RetryPolicy{}, false, 3, random), (std::vector<double>{0}));
  RetryPolicy exp;
  exp.kind = RetryPolicy::Kind::kExponential;
  EXPECT_EQ(AttemptTimes(exp, false, 3, random), (std::vector<double>{0}));
  EXPECT_EQ(AttemptTimes(RetryPolicy{}, true, 0, random), (std::vector<double>{0}));
}

}  // namespace
}  // namespace ulak::delivery
