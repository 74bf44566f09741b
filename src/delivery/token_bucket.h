// TokenBucket: a webhook's rate limit (rate_limit_per_s), refilled continuously, holding at
// most one second's worth. A value type with no clock of its own: the caller passes `now`.
//
// Lives on the delivery loop, inside DeliveryEngine's per-webhook queue (no lock).
#pragma once

#include <algorithm>
#include <chrono>

#include "common/clock.h"

namespace ulak::delivery {

class TokenBucket {
 public:
  // Takes one token if the bucket holds one at `now`. The rate is passed on every call so a
  // changed configuration applies at once; rate_per_s <= 0 means no limit (always true, the
  // bucket is left alone). A bucket seen for the first time is full: one second's burst.
  bool TryTake(int rate_per_s, TimePoint now) {
    if (rate_per_s <= 0) return true;
    const double rate = rate_per_s;
    if (refilled_at_ == TimePoint()) {
      tokens_ = rate;
    } else {
      const double elapsed_s = std::chrono::duration<double>(now - refilled_at_).count();
      tokens_ = std::min(rate, tokens_ + std::max(0.0, elapsed_s) * rate);
    }
    refilled_at_ = now;
    if (tokens_ >= 1.0) {
      tokens_ -= 1.0;
      return true;
    }
    return false;
  }

  // When the next token will be there (rounded up by a millisecond, so a wake-up at that
  // time finds it). REQUIRES: rate_per_s > 0 and a TryTake before (it refilled the bucket).
  TimePoint NextTokenAt(int rate_per_s) const {
    const auto wait = std::chrono::duration<double>((1.0 - tokens_) / rate_per_s);
    return refilled_at_ + std::chrono::duration_cast<std::chrono::milliseconds>(wait) + std::chrono::milliseconds(1);
  }

  double tokens() const { return tokens_; }

 private:
  double tokens_ = 0;
  TimePoint refilled_at_;  // epoch: never used yet
};

}  // namespace ulak::delivery
