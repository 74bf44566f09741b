#include "delivery/failure_streak.h"

#include <cstdint>

namespace ulak::delivery {

std::string FailureStreak::DisableReason(int failures, std::chrono::milliseconds after, TimePoint now) const {
  if (failures <= 0 || failures_ < failures || !first_failure_at_ || now - *first_failure_at_ < after) return "";
  const int64_t span_s = std::chrono::duration_cast<std::chrono::seconds>(now - *first_failure_at_).count();
  std::string span = span_s >= 2 * 86400 ? std::to_string(span_s / 86400) + " days"
                     : span_s >= 2 * 3600 ? std::to_string(span_s / 3600) + " hours"
                     : span_s >= 120      ? std::to_string(span_s / 60) + " minutes"
                                          : std::to_string(span_s) + " seconds";
  return std::to_string(failures_) + " consecutive deliveries failed over " + span + ".";
}

}  // namespace ulak::delivery
