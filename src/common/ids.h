// Object ids: UUIDv7 (RFC 9562) strings. Time-ordered, so ids sort by creation time and
// serve directly as pagination cursors, and they look like the UUIDs of seed 001.
#pragma once

#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/random.h"

namespace ulak {

std::string NewId(const Clock& clock, Random& random);
// True for a canonical lowercase 8-4-4-4-12 hex UUID.
bool LooksLikeId(std::string_view s);

}  // namespace ulak
