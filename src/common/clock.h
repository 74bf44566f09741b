// Clock: the only source of wall time. Retry schedules, signature timestamps, expiry and
// leases read it, so tests drive time with ManualClock instead of sleeping.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ulak {

using TimePoint = std::chrono::system_clock::time_point;
using Millis = std::chrono::milliseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;

  int64_t NowUnixMillis() const;
  int64_t NowUnixSeconds() const;
};

// The real wall clock. Thread-safe.
class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
  // A process-wide instance for code that has no clock injected (main, logging).
  static const SystemClock& Instance();
};

// A clock that moves only when told. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = TimePoint(std::chrono::seconds(1'700'000'000)))
      : now_ms_(ToMillis(start)) {}
  TimePoint Now() const override { return TimePoint(Millis(now_ms_.load())); }
  void Advance(Millis by) { now_ms_ += by.count(); }
  void Set(TimePoint t) { now_ms_ = ToMillis(t); }

 private:
  static int64_t ToMillis(TimePoint t) {
    return std::chrono::duration_cast<Millis>(t.time_since_epoch()).count();
  }
  std::atomic<int64_t> now_ms_;
};

// RFC 3339 UTC with millisecond precision: "2024-01-02T10:00:00.123Z".
std::string FormatRfc3339(TimePoint t);
// Parses RFC 3339 ("2024-01-02T10:00:00Z", "2024-01-02T10:00:00.5+03:00") or unix seconds.
std::optional<TimePoint> ParseTime(std::string_view text);
// Unix milliseconds <-> TimePoint, the representation the stores keep.
int64_t ToUnixMillis(TimePoint t);
TimePoint FromUnixMillis(int64_t ms);

}  // namespace ulak
