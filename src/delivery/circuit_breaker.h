// CircuitBreaker: a webhook's breaker for an unreachable endpoint (EngineOptions::breaker_*).
// After `failures` consecutive tries end without any response, it opens: the webhook sends
// one probe per cooldown, the cooldown doubling from `cooldown` up to `max_cooldown` with each
// failed probe, until an answer of any status closes it. A value type with no clock of its
// own (the caller passes `now`), no logging and no metrics: Record() says what changed and
// the caller acts on it.
//
// Lives on the delivery loop, inside DeliveryEngine's per-webhook queue (no lock).
#pragma once

#include <algorithm>
#include <chrono>
#include <optional>

#include "common/clock.h"
#include "store/types.h"

namespace ulak::delivery {

struct CircuitBreakerOptions {
  int failures = 10;  // 0: no breaker (Record and Seed change nothing)
  std::chrono::milliseconds cooldown{1000};
  std::chrono::milliseconds max_cooldown{60'000};
};

class CircuitBreaker {
 public:
  enum class Change {
    kNone,      // nothing the caller must act on
    kOpened,    // just opened: pause the webhook until pause_until
    kBackedOff, // a probe failed while open: pause again until pause_until, for longer
    kClosed,    // an answer came back: resume sending
  };
  struct Outcome {
    Change change = Change::kNone;
    std::optional<TimePoint> pause_until;  // set with kOpened and kBackedOff: now + cooldown
  };

  CircuitBreaker() = default;  // no breaker: Record and Seed change nothing
  explicit CircuitBreaker(CircuitBreakerOptions options) : options_(options) {}

  // Starts from the state stored with the webhook's attempts (a restart or another node).
  // Returns true when it starts open (its cooldown clamped to max_cooldown); the stored
  // pause, if any, is the caller's to honour.
  bool Seed(const store::Webhook::Breaker& stored) {
    if (options_.failures <= 0) return false;
    streak_ = stored.streak;
    if (stored.cooldown.count() <= 0) return false;
    cooldown_ = std::min(stored.cooldown, options_.max_cooldown);
    return true;
  }

  // One finished try: `unreachable` when it got no response at all; `probe` when it was sent
  // while the breaker was open. Tries that were in flight when it opened change nothing.
  Outcome Record(bool unreachable, bool probe, TimePoint now) {
    if (options_.failures <= 0) return {};
    if (!unreachable) {
      streak_ = 0;
      if (cooldown_.count() == 0) return {};
      cooldown_ = std::chrono::milliseconds(0);
      return {Change::kClosed, std::nullopt};
    }
    ++streak_;
    Change change;
    if (cooldown_.count() > 0) {
      if (!probe) return {};
      cooldown_ = std::min(cooldown_ * 2, options_.max_cooldown);
      change = Change::kBackedOff;
    } else if (streak_ >= options_.failures) {
      cooldown_ = std::min(options_.cooldown, options_.max_cooldown);
      change = Change::kOpened;
    } else {
      return {};
    }
    return {change, now + cooldown_};
  }

  bool open() const { return cooldown_.count() > 0; }
  int streak() const { return streak_; }                          // consecutive tries without a response
  std::chrono::milliseconds cooldown() const { return cooldown_; }  // zero when closed

 private:
  CircuitBreakerOptions options_{.failures = 0};  // default-constructed: no breaker
  int streak_ = 0;
  std::chrono::milliseconds cooldown_{0};
};

}  // namespace ulak::delivery
