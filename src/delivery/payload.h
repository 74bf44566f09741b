// The body every delivery of an event sends (SPEC §3, seed 001):
//   {"event","timestamp","organization_id","data","metadata"}
// rendered once at publish; the bytes signed are the bytes sent, on every retry. Numbers are
// written as JSON.stringify writes them, or with the publisher's digits (shape/json_number.h).
#pragma once

#include <boost/json/value.hpp>

#include <string>
#include <string_view>

#include "common/clock.h"
#include "shape/json_number.h"

namespace ulak::delivery {

std::string RenderPayload(std::string_view event_type, TimePoint timestamp, std::string_view organization_id,
                          const boost::json::value& data, const boost::json::value& metadata,
                          const shape::NumberDigits* digits = nullptr);

}  // namespace ulak::delivery
