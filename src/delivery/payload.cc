#include "delivery/payload.h"

#include <boost/json/object.hpp>

namespace ulak::delivery {

std::string RenderPayload(std::string_view event_type, TimePoint timestamp, std::string_view organization_id,
                          const boost::json::value& data, const boost::json::value& metadata,
                          const shape::NumberDigits* digits) {
  // Written directly, in seed 001's key order, without copying `data` into an envelope object.
  std::string out;
  out.reserve(128 + event_type.size() + organization_id.size());
  out += R"({"event":)";
  shape::AppendJsonString(out, event_type);
  out += R"(,"timestamp":)";
  shape::AppendJsonString(out, FormatRfc3339(timestamp));
  out += R"(,"organization_id":)";
  shape::AppendJsonString(out, organization_id);
  out += R"(,"data":)";
  shape::AppendJson(out, data, digits);
  out += R"(,"metadata":)";
  if (metadata.is_null()) {
    out += "{}";
  } else {
    shape::AppendJson(out, metadata, digits);
  }
  out += '}';
  return out;
}

}  // namespace ulak::delivery
