// A source's event_map: rules turning a provider's event type into an ulak event type,
// e.g. {"match": "customer.subscription.*", "event": "subscription_changed"}. The first
// matching rule wins; without one the type is "<provider>.<provider type>".
#pragma once

#include <boost/json/value.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ulak::incoming {

struct EventMapRule {
  std::string match;  // exact, "prefix.*" or "*"
  std::string event;  // the ulak event type to publish
};

// kInvalidArgument naming "event_map" when malformed.
Result<std::vector<EventMapRule>> ParseEventMap(const boost::json::value& json);
std::string MapEventType(const std::vector<EventMapRule>& rules, std::string_view provider,
                         std::string_view provider_type);

}  // namespace ulak::incoming
