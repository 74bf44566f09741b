#include "common/clock.h"

#include <charconv>
#include <cstdio>
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

// The instants ParseTime accepts: 1900-01-01T00:00:00Z up to 2200-01-01T00:00:00Z. A TimePoint
// (nanoseconds) holds only 1677..2262, and callers add periods to what they parse; beyond it
// the conversions overflowed (undefined behaviour, found by fuzz_api with "from=1010-...").
constexpr int64_t kMinParsedSecs = -2'208'988'800;
constexpr int64_t kMaxParsedSecs = 7'258'118'400;

std::optional<TimePoint> ParseTime(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (text.find_first_not_of("0123456789") == std::string_view::npos) {
    int64_t secs = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), secs);
    if (ec != std::errc() || end != text.data() + text.size() || secs > kMaxParsedSecs) return std::nullopt;
    return FromUnixMillis(secs * 1000);
  }
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  if (text.size() < 20) return std::nullopt;
  auto digits = [&](size_t pos, size_t n, int& out) {
    if (pos + n > text.size()) return false;
    const auto [end, ec] = std::from_chars(text.data() + pos, text.data() + pos + n, out);
    return ec == std::errc() && end == text.data() + pos + n;
  };
  std::tm tm{};
  int year, mon, day, hour, min, sec;
  if (!digits(0, 4, year) || text[4] != '-' || !digits(5, 2, mon) || text[7] != '-' || !digits(8, 2, day) ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || !digits(11, 2, hour) || text[13] != ':' ||
      !digits(14, 2, min) || text[16] != ':' || !digits(17, 2, sec)) {
    return std::nullopt;
  }
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) return std::nullopt;
  size_t pos = 19;
  int64_t millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int64_t scale = 100;
    const size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      millis += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  int64_t offset_s = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos + 6 == text.size() && (text[pos] == '+' || text[pos] == '-') && text[pos + 3] == ':') {
    int oh, om;
    if (!digits(pos + 1, 2, oh) || !digits(pos + 4, 2, om)) return std::nullopt;
    offset_s = (oh * 3600 + om * 60) * (text[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  const int64_t secs = static_cast<int64_t>(timegm(&tm)) - offset_s;
  if (secs < kMinParsedSecs || secs > kMaxParsedSecs) return std::nullopt;
  return FromUnixMillis(secs * 1000 + millis);
}

}  // namespace ulak
