// An accepted incoming request's raw body, stored once (issue 17). The event it became holds
// the body's JSON in its payload ("data", re-serialized compactly); the request log keeps only
// how the raw body differs from those bytes: the whitespace the sender put between tokens
// (Stripe pretty-prints its events). A body that differs in anything else (escapes, number
// forms, a provider whose data is not the body) has no delta and is stored whole.
//
// Delta format (version 1), unsigned LEB128 varints:
//   0x01, offset into the payload, then pairs (copy length, insertion) until the end mark:
//   insertion (k << 2) | 1: "\n" and k spaces;  (k << 2) | 2: k spaces;
//   (n << 2) | 0 and n bytes: other whitespace;  3: the end (nothing inserted).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace ulak::store {

// The delta that rebuilds `body` from `payload`, or nullopt when there is none (the body is
// then stored as it is). ENSURES: ApplyBodyDelta(*result, payload) == body, byte for byte.
std::optional<std::string> EncodeBodyDelta(std::string_view body, std::string_view payload);

// The raw body; kInternal when the delta does not fit the payload (a damaged row).
Result<std::string> ApplyBodyDelta(std::string_view delta, std::string_view payload);

}  // namespace ulak::store
