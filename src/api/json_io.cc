#include "api/json_io.h"

#include <boost/json/parse.hpp>

#include <cmath>

#include "common/log.h"
#include "shape/json_number.h"
#include <boost/json/stream_parser.hpp>

namespace ulak::api {
namespace {

std::string Where(std::string_view body, size_t offset) {
  size_t line = 1;
  size_t column = 1;
  for (size_t i = 0; i < offset && i < body.size(); ++i) {
    if (body[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column) + " (byte " +
         std::to_string(offset) + ")";
}

const char* KindName(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null: return "null";
    case boost::json::kind::bool_: return "a boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_: return "a number";
    case boost::json::kind::string: return "a string";
    case boost::json::kind::array: return "an array";
    case boost::json::kind::object: return "an object";
  }
  return "a value";
}

Status WrongType(std::string_view field, const char* expected, const boost::json::value& got) {
  return InvalidArgument(std::string(field) + " must be " + expected + ", not " + KindName(got) + ".")
      .WithField(std::string(field));
}

// Whether d is a whole number an int64_t holds. Checked before any cast: casting a double out
// of range (1e999 parses as infinity) is undefined behaviour (found by fuzz_api).
bool IsInt64Valued(double d) {
  return d >= -9223372036854775808.0 && d < 9223372036854775808.0 && d == std::trunc(d);
}

}  // namespace

Result<boost::json::object> ParseJsonObject(std::string_view body) {
  if (body.empty()) return Malformed("The request body is empty; a JSON object is expected.");
  boost::json::parse_options opts;
  opts.max_depth = 64;
  boost::json::stream_parser parser({}, opts);
  boost::system::error_code ec;
  const size_t consumed = parser.write_some(body.data(), body.size(), ec);
  if (!ec && consumed < body.size()) {
    // write_some stops after a complete value; anything but whitespace after it is garbage.
    size_t i = consumed;
    while (i < body.size() && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t')) ++i;
    if (i < body.size()) return Malformed("Malformed JSON at " + Where(body, i) + ": unexpected data after the value.");
  }
  if (!ec) parser.finish(ec);
  if (ec) {
    return Malformed("Malformed JSON at " + Where(body, consumed) + ": " + ec.message() + ".");
  }
  boost::json::value v = parser.release();
  if (!v.is_object()) {
    return InvalidArgument(std::string("The request body must be a JSON object, not ") + KindName(v) + ".");
  }
  return std::move(v.as_object());
}

Result<std::string> RequireString(const boost::json::object& obj, std::string_view field,
                                  size_t max_length) {
  ULAK_ASSIGN_OR_RETURN(std::optional<std::string> value, OptionalString(obj, field, max_length));
  if (!value) return InvalidArgument(std::string(field) + " is required.").WithField(std::string(field));
  return std::move(*value);
}

Result<std::optional<std::string>> OptionalString(const boost::json::object& obj,
                                                  std::string_view field, size_t max_length) {
  const boost::json::value* v = obj.if_contains(field);
  if (v == nullptr || v->is_null()) return std::optional<std::string>();
  if (!v->is_string()) return WrongType(field, "a string", *v);
  const boost::json::string& s = v->get_string();
  if (s.size() > max_length) {
    return InvalidArgument(std::string(field) + " must be at most " + std::to_string(max_length) +
                           " characters long.").WithField(std::string(field));
  }
  return std::optional<std::string>(std::string(s.data(), s.size()));
}

Result<std::optional<int64_t>> OptionalInt(const boost::json::object& obj, std::string_view field,
                                           int64_t min, int64_t max) {
  const boost::json::value* v = obj.if_contains(field);
  if (v == nullptr || v->is_null()) return std::optional<int64_t>();
  int64_t n = 0;
  if (v->is_int64()) {
    n = v->get_int64();
  } else if (v->is_uint64() && v->get_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    n = static_cast<int64_t>(v->get_uint64());
  } else if (v->is_double() && IsInt64Valued(v->get_double())) {
    n = static_cast<int64_t>(v->get_double());
  } else {
    return WrongType(field, "an integer", *v);
  }
  if (n < min || n > max) {
    return InvalidArgument(std::string(field) + " must be between " + std::to_string(min) + " and " +
                           std::to_string(max) + ".").WithField(std::string(field));
  }
  return std::optional<int64_t>(n);
}

Result<std::optional<bool>> OptionalBool(const boost::json::object& obj, std::string_view field) {
  const boost::json::value* v = obj.if_contains(field);
  if (v == nullptr || v->is_null()) return std::optional<bool>();
  if (!v->is_bool()) return WrongType(field, "a boolean", *v);
  return std::optional<bool>(v->get_bool());
}

boost::json::value ParseJsonOr(std::string_view json, boost::json::value fallback) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(json, ec);
  return ec ? fallback : v;
}

http::Response JsonResponse(int status, const boost::json::value& body, const shape::NumberDigits* digits) {
  http::Response r;
  r.status = status;
  r.body = shape::SerializeJson(body, digits);
  return r;
}

http::Response NoContent() {
  http::Response r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

bool IsUtf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const size_t n = Utf8SequenceLength(text.substr(i));
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string ToUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const size_t n = Utf8SequenceLength(text.substr(i));
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

}  // namespace ulak::api
