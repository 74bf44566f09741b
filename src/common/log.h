// Structured logging: one JSON object per line on stderr.
//
//   ulak::Log(LogLevel::kInfo, "listening", {{"url", url}});
//   {"ts":"2026-11-23T10:00:00.000Z","level":"info","msg":"listening","url":"http://..."}
//
// The request id of the request being handled on this thread is added automatically
// (see ScopedRequestId). Never pass secrets, API keys, signatures or request bodies as
// fields: logs leave the trust boundary.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

namespace ulak {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

struct LogField {
  using Value = std::variant<std::string_view, int64_t, double, bool>;
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  LogField(std::string_view k, int64_t v) : key(k), value(v) {}
  LogField(std::string_view k, int v) : key(k), value(static_cast<int64_t>(v)) {}
  LogField(std::string_view k, unsigned v) : key(k), value(static_cast<int64_t>(v)) {}
  LogField(std::string_view k, uint64_t v) : key(k), value(static_cast<int64_t>(v)) {}
  LogField(std::string_view k, double v) : key(k), value(v) {}
  LogField(std::string_view k, bool v) : key(k), value(v) {}
  std::string_view key;
  Value value;
};

void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {});

void SetLogLevel(LogLevel min_level);
// Parses "debug" | "info" | "warn" | "error"; false if unknown.
bool ParseLogLevel(std::string_view name, LogLevel* out);
// Replaces the sink (default: write(2) to stderr). Each call receives one full line with
// its trailing newline. For tests that read the log.
void SetLogSinkForTest(std::function<void(std::string_view line)> sink);

// Marks this thread as handling the request with the given id until destroyed.
class ScopedRequestId {
 public:
  explicit ScopedRequestId(std::string_view id);
  ~ScopedRequestId();
  ScopedRequestId(const ScopedRequestId&) = delete;
  ScopedRequestId& operator=(const ScopedRequestId&) = delete;

 private:
  std::string previous_;
};

// Appends s to out as a JSON string literal body (no quotes), escaping as RFC 8259 requires.
// Bytes that are not well-formed UTF-8 (a request path may carry any) become U+FFFD, so the
// result is always valid JSON text.
void AppendJsonEscaped(std::string& out, std::string_view s);

// The length of the well-formed UTF-8 sequence at the start of s (1 to 4), or 0 if there is
// none there (a stray continuation byte, an overlong form, a surrogate, a truncated sequence).
// REQUIRES: !s.empty().
size_t Utf8SequenceLength(std::string_view s);

}  // namespace ulak
