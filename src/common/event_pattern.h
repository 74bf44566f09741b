// Event type patterns shared by subscriptions (outgoing) and event maps (incoming):
// an exact type ("order.created"), a prefix wildcard ("order.*"), or everything ("*").
#pragma once

#include <string_view>

namespace ulak {

bool EventMatches(std::string_view pattern, std::string_view event_type);

}  // namespace ulak
