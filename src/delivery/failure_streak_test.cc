#include "delivery/failure_streak.h"

#include <gtest/gtest.h>

namespace ulak::delivery {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;

const TimePoint kStart = TimePoint(std::chrono::seconds(1'700'000'000));

TEST(FailureStreakTest, CountsFailuresFromTheFirstOne) {
  FailureStreak s;
  s.RecordFailure(kStart);
  s.RecordFailure(kStart + hours(1));
  EXPECT_EQ(s.failures(), 2);
  EXPECT_EQ(s.first_failure_at(), kStart);
}

TEST(FailureStreakTest, ASuccessEndsTheStreak) {
  FailureStreak s(4, kStart);
  s.RecordSuccess();
  EXPECT_EQ(s.failures(), 0);
  EXPECT_FALSE(s.first_failure_at().has_value());
  s.RecordFailure(kStart + hours(2));
  EXPECT_EQ(s.first_failure_at(), kStart + hours(2));
}

TEST(FailureStreakTest, DisablesOnlyAfterEnoughFailuresOverEnoughTime) {
  FailureStreak s;
  for (int i = 0; i < 3; ++i) s.RecordFailure(kStart + hours(i));
  EXPECT_EQ(s.DisableReason(4, hours(1), kStart + hours(5)), "");   // too few
  EXPECT_EQ(s.DisableReason(3, hours(72), kStart + hours(5)), "");  // too soon
  EXPECT_EQ(s.DisableReason(3, hours(72), kStart + hours(72)), "3 consecutive deliveries failed over 3 days.");
  EXPECT_EQ(s.DisableReason(3, milliseconds(0), kStart + hours(5)), "3 consecutive deliveries failed over 5 hours.");
  EXPECT_EQ(s.DisableReason(3, milliseconds(0), kStart + std::chrono::minutes(3)),
            "3 consecutive deliveries failed over 3 minutes.");
  EXPECT_EQ(s.DisableReason(3, milliseconds(0), kStart + std::chrono::seconds(30)),
            "3 consecutive deliveries failed over 30 seconds.");
  EXPECT_EQ(s.DisableReason(0, milliseconds(0), kStart + hours(100)), "");  // auto-disable off
}

TEST(FailureStreakTest, SeededFromTheStoreItContinues) {
  FailureStreak s(49, kStart);
  s.RecordFailure(kStart + hours(80));
  EXPECT_EQ(s.failures(), 50);
  EXPECT_EQ(s.first_failure_at(), kStart);
  EXPECT_NE(s.DisableReason(50, hours(72), kStart + hours(80)), "");
}

}  // namespace
}  // namespace ulak::delivery
