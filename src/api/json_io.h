// JSON in and out for the API: parse a request body into an object with a precise error,
// read typed fields with 422 errors that name the field, and build JSON responses.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "http/message.h"
#include "shape/json_number.h"

namespace ulak::api {

// kMalformed with "line L, column C" for bad JSON; kInvalidArgument if the body is valid
// JSON but not an object.
Result<boost::json::object> ParseJsonObject(std::string_view body);

// Field readers. A missing optional field gives nullopt; a present field of the wrong type
// or out of range gives kInvalidArgument naming the field.
Result<std::string> RequireString(const boost::json::object& obj, std::string_view field,
                                  size_t max_length = 1024);
Result<std::optional<std::string>> OptionalString(const boost::json::object& obj,
                                                  std::string_view field, size_t max_length = 1024);
Result<std::optional<int64_t>> OptionalInt(const boost::json::object& obj, std::string_view field,
                                           int64_t min, int64_t max);
Result<std::optional<bool>> OptionalBool(const boost::json::object& obj, std::string_view field);

// Parses stored JSON text; `fallback` if it does not parse (stored JSON is ours, so this
// only guards against a damaged row).
boost::json::value ParseJsonOr(std::string_view json, boost::json::value fallback);

// Numbers as JSON.stringify writes them; `digits` gives published numbers their own digits.
http::Response JsonResponse(int status, const boost::json::value& body, const shape::NumberDigits* digits = nullptr);
// 204 with no body: the answer to a DELETE.
http::Response NoContent();

// Whether text is well-formed UTF-8. Strings from a JSON body always are; header values and
// decoded paths need not be, and Boost.JSON writes a string's bytes as they are, so text from
// there is checked (or made valid) before it goes into an answer.
bool IsUtf8(std::string_view text);
// text with every byte that is not part of well-formed UTF-8 replaced by U+FFFD.
std::string ToUtf8(std::string_view text);

}  // namespace ulak::api
