#include "api/errors.h"

#include "common/log.h"

namespace ulak::api {
namespace {

std::string_view CodeFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "ok";
    case ErrorCode::kInvalidArgument: return "validation_error";
    case ErrorCode::kMalformed: return "invalid_json";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kAlreadyExists: return "conflict";
    case ErrorCode::kUnauthenticated: return "unauthorized";
    case ErrorCode::kPermissionDenied: return "forbidden";
    case ErrorCode::kResourceExhausted: return "rate_limited";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kUnimplemented: return "not_implemented";
    case ErrorCode::kInternal: return "internal_error";
  }
  return "internal_error";
}

}  // namespace

int HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return 200;
    case ErrorCode::kInvalidArgument: return 422;
    case ErrorCode::kMalformed: return 400;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kAlreadyExists: return 409;
    case ErrorCode::kUnauthenticated: return 401;
    case ErrorCode::kPermissionDenied: return 403;
    case ErrorCode::kResourceExhausted: return 429;
    case ErrorCode::kUnavailable: return 503;
    case ErrorCode::kUnimplemented: return 501;
    case ErrorCode::kInternal: return 500;
  }
  return 500;
}

http::Response ErrorFromStatus(const Status& status) {
  if (status.code() == ErrorCode::kInternal) {
    Log(LogLevel::kError, "internal error", {{"detail", status.message()}});
    return http::ErrorResponse(500, CodeFor(status.code()), "An internal error occurred; it has been logged.");
  }
  http::Response r = http::ErrorResponse(HttpStatusFor(status.code()), CodeFor(status.code()), status.message());
  if (status.code() == ErrorCode::kUnauthenticated) r.SetHeader("WWW-Authenticate", "Bearer");
  if (status.code() == ErrorCode::kResourceExhausted) r.SetHeader("Retry-After", "1");
  if (status.code() == ErrorCode::kUnavailable) {
    Log(LogLevel::kWarn, "store unavailable", {{"detail", status.message()}});
    r.SetHeader("Retry-After", "1");
  }
  return r;
}

}  // namespace ulak::api
