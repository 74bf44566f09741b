#include "common/event_pattern.h"

namespace ulak {

bool EventMatches(std::string_view pattern, std::string_view event_type) {
  if (pattern == "*") return true;
  if (pattern.size() >= 2 && pattern.substr(pattern.size() - 2) == ".*") {
    const std::string_view prefix = pattern.substr(0, pattern.size() - 1);  // keeps the dot
    return event_type.size() > prefix.size() && event_type.substr(0, prefix.size()) == prefix;
  }
  return pattern == event_type;
}

}  // namespace ulak
