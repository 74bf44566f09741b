#include "delivery/circuit_breaker.h"

#include <gtest/gtest.h>

namespace ulak::delivery {
namespace {

using std::chrono::milliseconds;
using Change = CircuitBreaker::Change;

const TimePoint kNow = TimePoint(std::chrono::seconds(1'700'000'000));
const CircuitBreakerOptions kOptions{3, milliseconds(1000), milliseconds(3000)};

TEST(CircuitBreakerTest, OpensAfterConsecutiveUnreachableTries) {
  CircuitBreaker b(kOptions);
  EXPECT_EQ(b.Record(true, false, kNow).change, Change::kNone);
  EXPECT_EQ(b.Record(true, false, kNow).change, Change::kNone);
  EXPECT_FALSE(b.open());
  const CircuitBreaker::Outcome opened = b.Record(true, false, kNow);
  EXPECT_EQ(opened.change, Change::kOpened);
  EXPECT_EQ(opened.pause_until, kNow + milliseconds(1000));
  EXPECT_TRUE(b.open());
  EXPECT_EQ(b.streak(), 3);
}

TEST(CircuitBreakerTest, AnyAnswerResetsTheStreak) {
  CircuitBreaker b(kOptions);
  b.Record(true, false, kNow);
  b.Record(true, false, kNow);
  EXPECT_EQ(b.Record(false, false, kNow).change, Change::kNone);  // closed already: nothing to resume
  EXPECT_EQ(b.streak(), 0);
  EXPECT_EQ(b.Record(true, false, kNow).change, Change::kNone);
  EXPECT_FALSE(b.open());
}

TEST(CircuitBreakerTest, FailedProbesDoubleTheCooldownUpToTheMaximum) {
  CircuitBreaker b(kOptions);
  for (int i = 0; i < 3; ++i) b.Record(true, false, kNow);
  // Tries that were in flight when it opened change nothing.
  EXPECT_EQ(b.Record(true, false, kNow).change, Change::kNone);
  EXPECT_EQ(b.cooldown(), milliseconds(1000));
  CircuitBreaker::Outcome o = b.Record(true, true, kNow);
  EXPECT_EQ(o.change, Change::kBackedOff);
  EXPECT_EQ(o.pause_until, kNow + milliseconds(2000));
  o = b.Record(true, true, kNow);
  EXPECT_EQ(o.pause_until, kNow + milliseconds(3000));  // 4000 clamped
  EXPECT_EQ(b.Record(true, true, kNow).pause_until, kNow + milliseconds(3000));
}

TEST(CircuitBreakerTest, AnAnswerClosesIt) {
  CircuitBreaker b(kOptions);
  for (int i = 0; i < 3; ++i) b.Record(true, false, kNow);
  const CircuitBreaker::Outcome o = b.Record(false, true, kNow);
  EXPECT_EQ(o.change, Change::kClosed);
  EXPECT_FALSE(o.pause_until.has_value());
  EXPECT_FALSE(b.open());
  EXPECT_EQ(b.streak(), 0);
  EXPECT_EQ(b.cooldown(), milliseconds(0));
}

TEST(CircuitBreakerTest, SeedsFromTheStoredStateClampingTheCooldown) {
  CircuitBreaker closed(kOptions);
  EXPECT_FALSE(closed.Seed({2, milliseconds(0), std::nullopt}));
  EXPECT_EQ(closed.streak(), 2);
  EXPECT_EQ(closed.Record(true, false, kNow).change, Change::kOpened);  // one more opens it

  CircuitBreaker open(kOptions);
  EXPECT_TRUE(open.Seed({7, milliseconds(60'000), kNow}));
  EXPECT_TRUE(open.open());
  EXPECT_EQ(open.cooldown(), milliseconds(3000));
}

TEST(CircuitBreakerTest, ZeroFailuresMeansNoBreaker) {
  CircuitBreaker b(CircuitBreakerOptions{0, milliseconds(1000), milliseconds(3000)});
  EXPECT_FALSE(b.Seed({5, milliseconds(2000), kNow}));
  for (int i = 0; i < 100; ++i) EXPECT_EQ(b.Record(true, false, kNow).change, Change::kNone);
  EXPECT_FALSE(b.open());
  EXPECT_EQ(b.streak(), 0);
  CircuitBreaker defaulted;
  for (int i = 0; i < 100; ++i) defaulted.Record(true, false, kNow);
  EXPECT_FALSE(defaulted.open());
}

}  // namespace
}  // namespace ulak::delivery
