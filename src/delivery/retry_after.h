// Retry-After (RFC 9110 §10.2.3) on 429 and 503 answers, as Standard Webhooks asks: the
// receiver says when to come back, either in seconds or as an HTTP-date.
//
// Pure functions of their inputs (the caller passes the Clock's now): tested on a manual clock.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "common/clock.h"

namespace ulak::delivery {

// The longest a Retry-After may push a retry beyond the policy's own delay.
inline constexpr std::chrono::milliseconds kMaxRetryAfterBeyondPolicy = std::chrono::hours(1);

// True for the statuses whose Retry-After ulak honours (429 Too Many Requests, 503).
bool HonoursRetryAfter(int status);

// The wait a Retry-After value asks for, measured from `now`: delay-seconds ("120") or an
// HTTP-date ("Sun, 06 Nov 1994 08:49:37 GMT", and the obsolete RFC 850 and asctime forms
// recipients must accept). A date in the past gives zero. nullopt: empty or malformed (the
// header is then ignored and the policy applies).
std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value, TimePoint now);

// The delay before the next try: the policy's delay, or the receiver's wait when that is
// longer, clamped to at most kMaxRetryAfterBeyondPolicy beyond the policy's delay.
std::chrono::milliseconds DelayHonouringRetryAfter(std::chrono::milliseconds policy_delay,
                                                   std::chrono::milliseconds wait);

}  // namespace ulak::delivery
