#include "common/clock.h"

#include <ctime>

namespace ulak {

int64_t Clock::NowUnixMillis() const { return ToUnixMillis(Now()); }
int64_t Clock::NowUnixSeconds() const { return NowUnixMillis() / 1000; }

const SystemClock& SystemClock::Instance() {
  static const SystemClock clock;
  return clock;
}

int64_t ToUnixMillis(TimePoint t) {
  return std::chrono::duration_cast<Millis>(t.time_since_epoch()).count();
}

TimePoint FromUnixMillis(int64_t ms) { return TimePoint(Millis(ms)); }

std::string FormatRfc3339(TimePoint t) {
  const int64_t ms = ToUnixMillis(t);
  int64_t secs = ms / 1000;
  int64_t frac = ms % 1000;
  if (frac < 0) {  // before 1970: floor, not truncate
    frac += 1000;
    --secs;
  }
  const std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[40];
  const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out(buf, n);
  char tail[8];
  std::snprintf(tail, sizeof tail, ".%03dZ", static_cast<int>(frac));
  out += tail;
  return out;
}

}  // namespace ulak
