#include "api/pagination.h"

#include <charconv>

#include "common/ids.h"

namespace ulak::api {

Result<int> ParseLimit(const http::Request& request, int default_limit, int max_limit) {
  std::optional<std::string_view> limit = request.GetQuery("limit");
  if (!limit) return default_limit;
  int n = 0;
  const auto [end, ec] = std::from_chars(limit->data(), limit->data() + limit->size(), n);
  if (ec != std::errc() || end != limit->data() + limit->size() || n < 1 || n > max_limit) {
    return InvalidArgument("limit must be an integer between 1 and " + std::to_string(max_limit) + ".")
        .WithField("limit");
  }
  return n;
}

Result<std::string> ParseCursor(const http::Request& request) {
  std::optional<std::string_view> cursor = request.GetQuery("cursor");
  if (!cursor || cursor->empty()) return std::string();
  if (!LooksLikeId(*cursor)) return InvalidArgument("cursor is not a cursor this API returned.").WithField("cursor");
  return std::string(*cursor);
}

Result<store::PageRequest> ParsePageRequest(const http::Request& request) {
  store::PageRequest page;
  ULAK_ASSIGN_OR_RETURN(page.limit, ParseLimit(request, kDefaultPageLimit, kMaxPageLimit));
  ULAK_ASSIGN_OR_RETURN(page.after, ParseCursor(request));
  return page;
}

void AddPageInfo(boost::json::object& out, const std::string& next_cursor) {
  if (next_cursor.empty()) {
    out["next_cursor"] = nullptr;
  } else {
    out["next_cursor"] = next_cursor;
  }
  out["has_more"] = !next_cursor.empty();
}

}  // namespace ulak::api
