#include "delivery/retry_policy.h"

#include <algorithm>
#include <cmath>

namespace ulak::delivery {

int MaxRetries(const RetryPolicy& policy, bool retry_enabled, int max_retries) {
  if (!retry_enabled) return 0;
  if (policy.kind == RetryPolicy::Kind::kExponential) return std::max(0, policy.max_attempts - 1);
  return std::max(0, max_retries);
}

std::optional<std::chrono::milliseconds> DelayBeforeRetry(const RetryPolicy& policy, bool retry_enabled,
                                                          int max_retries, int attempts_made, Random& random) {
  const int retry_number = attempts_made;  // the retry about to be scheduled, 1-based
  if (retry_number < 1 || retry_number > MaxRetries(policy, retry_enabled, max_retries)) return std::nullopt;
  if (policy.kind != RetryPolicy::Kind::kExponential) {
    if (policy.delays_s.empty()) return std::chrono::milliseconds(0);
    const size_t index = std::min(static_cast<size_t>(retry_number), policy.delays_s.size()) - 1;
    return std::chrono::milliseconds(policy.delays_s[index] * 1000);
  }
  double delay_s = policy.initial_s * std::pow(policy.multiplier, retry_number - 1);
  delay_s = std::min(delay_s, policy.max_delay_s);
  const double jitter = (random.Unit() * 2.0 - 1.0) * RetryPolicy::kJitter;  // [-20%, +20%)
  delay_s *= 1.0 + jitter;
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(delay_s * 1000.0)));
}

}  // namespace ulak::delivery
