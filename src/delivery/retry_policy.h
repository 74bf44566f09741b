// When a failed delivery is tried again.
//
// - fixed (default, seed 001): the n-th retry waits delays_s[n-1] (the last delay repeats
//   if max_retries is larger than the list): 60, 300, 1800 s gives attempts at 0, 60, 360
//   and 2160 s. A "custom" policy is a fixed one with the caller's list.
// - exponential (seed 000): initial_s × multiplier^(n-1), capped at max_delay_s, ±20%
//   jitter, max_attempts attempts in all (the first try included).
// A pure function of its inputs: tested without clocks or sleeps.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/random.h"
#include "common/status.h"

namespace ulak::delivery {

struct RetryPolicy {
  // kCustom behaves as kFixed with the caller's list; it is kept apart only so the API
  // shows back the kind it was given.
  enum class Kind { kFixed, kCustom, kExponential };
  Kind kind = Kind::kFixed;
  std::vector<int64_t> delays_s = {60, 300, 1800};  // kFixed, kCustom
  double initial_s = 1;                              // kExponential
  double multiplier = 2;
  double max_delay_s = 60;
  int max_attempts = 5;

  static constexpr double kJitter = 0.2;
};

// How many retries (after the first try) a delivery gets.
int MaxRetries(const RetryPolicy& policy, bool retry_enabled, int max_retries);

// The wait before the next try, given how many tries were made (>= 1); nullopt when the
// delivery has no tries left.
std::optional<std::chrono::milliseconds> DelayBeforeRetry(const RetryPolicy& policy, bool retry_enabled,
                                                          int max_retries, int attempts_made, Random& random);

}  // namespace ulak::delivery
