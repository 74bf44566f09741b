// FailureStreak: a webhook's current run of failed deliveries, for auto-disable (SPEC: a
// webhook whose last N deliveries all failed, the first of them at least a given time ago,
// is disabled). A value type with no clock of its own: the caller passes `now`. Seeded from
// the store (consecutive_failures, first_failure_at) and stored again with every outcome.
//
// Lives on the delivery loop, in DeliveryEngine (no lock).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "common/clock.h"

namespace ulak::delivery {

class FailureStreak {
 public:
  FailureStreak() = default;
  FailureStreak(int failures, std::optional<TimePoint> first_failure_at)
      : failures_(failures), first_failure_at_(first_failure_at) {}

  // A delivery finished (not one waiting for a retry).
  void RecordSuccess() { *this = FailureStreak(); }
  void RecordFailure(TimePoint now) {
    if (failures_ == 0 || !first_failure_at_) first_failure_at_ = now;
    ++failures_;
  }

  // Why the webhook must be disabled now ("50 consecutive deliveries failed over 3 days."),
  // or an empty string. `failures` <= 0: never.
  std::string DisableReason(int failures, std::chrono::milliseconds after, TimePoint now) const;

  int failures() const { return failures_; }
  const std::optional<TimePoint>& first_failure_at() const { return first_failure_at_; }

 private:
  int failures_ = 0;
  std::optional<TimePoint> first_failure_at_;
};

}  // namespace ulak::delivery
