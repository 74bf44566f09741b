// `limit` and `cursor` query parameters, shared by every list route.
#pragma once

#include <boost/json/object.hpp>

#include <string>

#include "common/status.h"
#include "http/message.h"
#include "store/types.h"

namespace ulak::api {

inline constexpr int kDefaultPageLimit = 50;
inline constexpr int kMaxPageLimit = 250;

// The `limit` query parameter: default_limit when absent, else an integer in [1, max_limit]
// (kInvalidArgument naming `limit` otherwise).
Result<int> ParseLimit(const http::Request& request, int default_limit, int max_limit);
// The `cursor` query parameter: empty when absent, else an id this API returned.
Result<std::string> ParseCursor(const http::Request& request);

// kInvalidArgument naming `limit` or `cursor` when either is malformed.
Result<store::PageRequest> ParsePageRequest(const http::Request& request);
// Adds "next_cursor" (string or null) and "has_more" to a list response.
void AddPageInfo(boost::json::object& out, const std::string& next_cursor);

}  // namespace ulak::api
