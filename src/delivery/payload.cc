#include "delivery/payload.h"

#include <boost/json/object.hpp>

namespace ulak::delivery {

std::string RenderPayload(std::string_view event_type, TimePoint timestamp, std::string_view organization_id,
                          const boost::json::value& data, const boost::json::value& metadata,
                          const shape::NumberDigits* digits) {
  // boost::json::object keeps insertion order, so the keys appear as seed 001 lists them.
  boost::json::object body;
  body["event"] = event_type;
  body["timestamp"] = FormatRfc3339(timestamp);
  body["organization_id"] = organization_id;
  body["data"] = data;
  body["metadata"] = metadata.is_null() ? boost::json::value(boost::json::object()) : metadata;
  return shape::SerializeJson(body, digits);
}

}  // namespace ulak::delivery
