#include "delivery/retry_after.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <string>

namespace ulak::delivery {

bool HonoursRetryAfter(int status) { return status == 429 || status == 503; }

std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value, TimePoint now) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::isdigit(static_cast<unsigned char>(value.front()))) {
    // delay-seconds = 1*DIGIT. A value too large for 64 bits is still "very long": the
    // caller's clamp bounds it anyway.
    uint64_t seconds = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (end != value.data() + value.size()) return std::nullopt;
    if (ec == std::errc::result_out_of_range || seconds > 100ULL * 365 * 86400) {
      seconds = 100ULL * 365 * 86400;
    } else if (ec != std::errc()) {
      return std::nullopt;
    }
    return std::chrono::seconds(seconds);
  }
  // HTTP-date in any of its three forms: libcurl's parser (the one it uses for cookies and
  // If-Modified-Since) knows them all.
  const std::string text(value);
  const time_t when = curl_getdate(text.c_str(), nullptr);
  if (when == static_cast<time_t>(-1)) return std::nullopt;
  const auto at = std::chrono::system_clock::from_time_t(when);
  if (at <= now) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(at - now);
}

std::chrono::milliseconds DelayHonouringRetryAfter(std::chrono::milliseconds policy_delay,
                                                   std::chrono::milliseconds wait) {
  return std::clamp(wait, policy_delay, policy_delay + kMaxRetryAfterBeyondPolicy);
}

}  // namespace ulak::delivery
