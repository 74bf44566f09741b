// The tenant portal: POST /api/organizations/{id}/portal mints a short-lived link
// ("/ui/#portal=<token>") scoped to one organization; DELETE revokes every link issued for it.
#pragma once

#include <string>

#include "api/api.h"
#include "common/random.h"
#include "crypto/secret_box.h"
#include "store/store.h"

namespace ulak::api {

inline constexpr int64_t kDefaultPortalTtlS = 3600;
inline constexpr int64_t kMaxPortalTtlS = 24 * 3600;

// The key portal tokens are signed with: generated once, kept in the store's settings sealed
// under the master key (one per master key id), so every node sharing the database signs and
// verifies alike.
Result<std::string> LoadPortalSigningKey(store::Store& store, const crypto::SecretBox& box, Random& random);

void AddPortalRoutes(ApiContext& ctx, http::Router& router);

}  // namespace ulak::api
