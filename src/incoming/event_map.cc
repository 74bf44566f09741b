#include "incoming/event_map.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "common/event_pattern.h"

namespace ulak::incoming {

Result<std::vector<EventMapRule>> ParseEventMap(const boost::json::value& json) {
  auto invalid = [] {
    return InvalidArgument("event_map must be a list of {\"match\": \"<provider type or pattern>\", "
                           "\"event\": \"<ulak event type>\"} rules.")
        .WithField("event_map");
  };
  if (json.is_null()) return std::vector<EventMapRule>();
  if (!json.is_array() || json.as_array().size() > 100) return invalid();
  std::vector<EventMapRule> rules;
  for (const auto& item : json.as_array()) {
    if (!item.is_object()) return invalid();
    const boost::json::value* match = item.as_object().if_contains("match");
    const boost::json::value* event = item.as_object().if_contains("event");
    if (match == nullptr || event == nullptr || !match->is_string() || !event->is_string() ||
        match->as_string().empty() || event->as_string().empty() || match->as_string().size() > 200 ||
        event->as_string().size() > 200) {
      return invalid();
    }
    rules.push_back({std::string(match->as_string()), std::string(event->as_string())});
  }
  return rules;
}

std::string MapEventType(const std::vector<EventMapRule>& rules, std::string_view provider,
                         std::string_view provider_type) {
  for (const EventMapRule& r : rules) {
    if (EventMatches(r.match, provider_type)) return r.event;
  }
  return std::string(provider) + "." + std::string(provider_type);
}

}  // namespace ulak::incoming
