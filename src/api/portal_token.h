// Tenant portal tokens: short-lived, signed, scoped to one organization.
//
//   ulak_portal_v1.<organization id>.<expires at, unix ms>.<generation>.<hex HMAC-SHA256>
//
// The HMAC covers everything before its dot, keyed by the server's portal signing key (kept
// sealed under the master key, see LoadPortalSigningKey). `generation` is the organization's
// portal generation when the token was signed: DELETE /api/organizations/{id}/portal bumps
// it, so every older token stops working on every node at once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"

namespace ulak::api {

inline constexpr std::string_view kPortalTokenPrefix = "ulak_portal_";

struct PortalClaims {
  std::string organization_id;
  TimePoint expires_at;
  int64_t generation = 0;
};

// REQUIRES: signing_key non-empty; organization_id holds no '.'.
std::string SignPortalToken(std::string_view signing_key, const PortalClaims& claims);

// Checks the shape, the signature (constant time) and the expiry against `now`.
// kUnauthenticated for anything wrong, with a message that names what; never echoes the token.
// The generation is returned for the caller to compare with the store's.
Result<PortalClaims> VerifyPortalToken(std::string_view signing_key, std::string_view token, TimePoint now);

}  // namespace ulak::api
