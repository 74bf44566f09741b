// Status and Result<T>: expected errors as values at every module boundary.
//
// A Status is either OK or carries an ErrorCode plus a human sentence. The HTTP layer maps
// ErrorCode to a status code and a snake_case "code" string; nothing below the HTTP layer
// knows about HTTP. Exceptions never cross a module boundary: code that calls a throwing
// library (Boost.JSON, yaml-cpp) catches at its edge and returns a Status.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace ulak {

enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,    // bad input from a caller: 422 at the HTTP edge
  kMalformed,          // unparseable input (JSON, config): 400
  kNotFound,           // 404
  kAlreadyExists,      // 409
  kUnauthenticated,    // 401
  kPermissionDenied,   // 403
  kResourceExhausted,  // limits, backpressure: 429 / 413
  kUnavailable,        // store or network temporarily gone: 503
  kUnimplemented,      // a feature not built yet
  kInternal,           // a bug or an unexpected library failure: 500
};

std::string_view ErrorCodeName(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // Optional machine-readable detail, e.g. the JSON field a 422 is about.
  const std::string& field() const { return field_; }
  Status&& WithField(std::string field) && {
    field_ = std::move(field);
    return std::move(*this);
  }

  std::string ToString() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
  std::string field_;
};

inline Status InvalidArgument(std::string msg) { return {ErrorCode::kInvalidArgument, std::move(msg)}; }
inline Status Malformed(std::string msg) { return {ErrorCode::kMalformed, std::move(msg)}; }
inline Status NotFound(std::string msg) { return {ErrorCode::kNotFound, std::move(msg)}; }
inline Status AlreadyExists(std::string msg) { return {ErrorCode::kAlreadyExists, std::move(msg)}; }
inline Status Unauthenticated(std::string msg) { return {ErrorCode::kUnauthenticated, std::move(msg)}; }
inline Status PermissionDenied(std::string msg) { return {ErrorCode::kPermissionDenied, std::move(msg)}; }
inline Status ResourceExhausted(std::string msg) { return {ErrorCode::kResourceExhausted, std::move(msg)}; }
inline Status Unavailable(std::string msg) { return {ErrorCode::kUnavailable, std::move(msg)}; }
inline Status Unimplemented(std::string msg) { return {ErrorCode::kUnimplemented, std::move(msg)}; }
inline Status Internal(std::string msg) { return {ErrorCode::kInternal, std::move(msg)}; }

// Result<T>: a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    assert(!status_.ok() && "Result built from an OK Status has no value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & { assert(ok()); return *value_; }
  const T& value() const& { assert(ok()); return *value_; }
  T&& value() && { assert(ok()); return std::move(*value_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace ulak

// Early return on error, for functions returning Status or Result<U>.
#define ULAK_RETURN_IF_ERROR(expr)              \
  do {                                          \
    ::ulak::Status ulak_status_ = (expr);       \
    if (!ulak_status_.ok()) return ulak_status_; \
  } while (0)

#define ULAK_CONCAT_INNER(a, b) a##b
#define ULAK_CONCAT(a, b) ULAK_CONCAT_INNER(a, b)
// ULAK_ASSIGN_OR_RETURN(auto x, Foo()); returns Foo()'s status on error.
#define ULAK_ASSIGN_OR_RETURN(lhs, expr) \
  ULAK_ASSIGN_OR_RETURN_IMPL(ULAK_CONCAT(ulak_result_, __LINE__), lhs, expr)
#define ULAK_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()
