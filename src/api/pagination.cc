#include "api/pagination.h"

#include <charconv>

#include "common/ids.h"

namespace ulak::api {

Result<store::PageRequest> ParsePageRequest(const http::Request& request) {
  store::PageRequest page;
  page.limit = kDefaultPageLimit;
  if (auto limit = request.GetQuery("limit")) {
    int n = 0;
    const auto [end, ec] = std::from_chars(limit->data(), limit->data() + limit->size(), n);
    if (ec != std::errc() || end != limit->data() + limit->size() || n < 1 || n > kMaxPageLimit) {
      return InvalidArgument("limit must be an integer between 1 and " + std::to_string(kMaxPageLimit) + ".")
          .WithField("limit");
    }
    page.limit = n;
  }
  if (auto cursor = request.GetQuery("cursor"); cursor && !cursor->empty()) {
    if (!LooksLikeId(*cursor)) {
      return InvalidArgument("cursor is not a cursor this API returned.").WithField("cursor");
    }
    page.after = std::string(*cursor);
  }
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
