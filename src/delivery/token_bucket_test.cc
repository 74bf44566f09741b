#include "delivery/token_bucket.h"

#include <gtest/gtest.h>

namespace ulak::delivery {
namespace {

using std::chrono::milliseconds;

const TimePoint kStart = TimePoint(std::chrono::seconds(1'700'000'000));

TEST(TokenBucketTest, NoLimitAlwaysSends) {
  TokenBucket bucket;
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(bucket.TryTake(0, kStart));
  EXPECT_TRUE(bucket.TryTake(-1, kStart));
}

TEST(TokenBucketTest, StartsFullWithOneSecondsBurstThenWaits) {
  TokenBucket bucket;
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(bucket.TryTake(5, kStart)) << i;
  EXPECT_FALSE(bucket.TryTake(5, kStart));
  // One token every 200 ms at 5/s (plus the millisecond of rounding up).
  EXPECT_EQ(bucket.NextTokenAt(5), kStart + milliseconds(201));
}

TEST(TokenBucketTest, RefillsWithTheTimePassed) {
  TokenBucket bucket;
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(bucket.TryTake(2, kStart));
  EXPECT_FALSE(bucket.TryTake(2, kStart + milliseconds(499)));
  EXPECT_TRUE(bucket.TryTake(2, kStart + milliseconds(500)));
  EXPECT_FALSE(bucket.TryTake(2, kStart + milliseconds(500)));
}

TEST(TokenBucketTest, HoldsAtMostOneSecondsWorth) {
  TokenBucket bucket;
  ASSERT_TRUE(bucket.TryTake(3, kStart));
  const TimePoint later = kStart + std::chrono::hours(1);  // idle for long: still only 3
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(bucket.TryTake(3, later)) << i;
  EXPECT_FALSE(bucket.TryTake(3, later));
}

TEST(TokenBucketTest, ClockGoingBackAddsNothing) {
  TokenBucket bucket;
  ASSERT_TRUE(bucket.TryTake(1, kStart));
  EXPECT_FALSE(bucket.TryTake(1, kStart - std::chrono::seconds(10)));
}

}  // namespace
}  // namespace ulak::delivery
