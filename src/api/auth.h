// API key authentication and organization scoping.
//
// Keys are 256 random bits, shown once, stored only as SHA-256 hex. A request proves a key
// with `Authorization: Bearer <key>`; the hash of what it sends is compared in constant time
// with the admin key's hash, or looked up among organization keys.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/random.h"
#include "common/status.h"
#include "http/message.h"
#include "store/store.h"

namespace ulak::api {

struct Principal {
  bool is_admin = false;
  std::string organization_id;  // empty for the admin
  std::string key_id;           // empty for the admin
  // A tenant portal session (api/portal_token.h): acts on organization_id like its key, but
  // never manages API keys or portal links and never rotates secrets (RequireNotPortal).
  bool is_portal = false;
};

// A newly minted key: the secret (returned to the caller once) and what is stored.
struct MintedKey {
  std::string secret;
  std::string hash;
  std::string prefix;
};

inline constexpr std::string_view kOrganizationKeyPrefix = "ulak_";
inline constexpr std::string_view kAdminKeyPrefix = "ulak_admin_";
MintedKey MintKey(Random& random, std::string_view prefix);
std::string HashKey(std::string_view secret);

class Authenticator {
 public:
  Authenticator(store::Store& store, std::string admin_key_hash)
      : store_(store), admin_key_hash_(std::move(admin_key_hash)) {}

  // kUnauthenticated when the header is missing, malformed, or names no key.
  Result<Principal> Authenticate(const http::Request& request) const;
  // Forgets a deleted key at once on this node; other nodes within kCacheTtl.
  void Forget(const std::string& key_id) const;
  // Accepts portal tokens signed with signing_key (empty: none). Call before serving.
  void EnablePortal(std::string signing_key, const Clock& clock) {
    portal_key_ = std::move(signing_key);
    portal_clock_ = &clock;
  }
  const std::string& portal_key() const { return portal_key_; }

  // Keys found in the store are remembered this long, so most requests skip the store.
  static constexpr std::chrono::milliseconds kCacheTtl{5000};

 private:
  struct Cached {
    Principal principal;
    std::chrono::steady_clock::time_point until;
  };
  store::Store& store_;
  const std::string admin_key_hash_;
  std::string portal_key_;
  const Clock* portal_clock_ = &SystemClock::Instance();
  Result<Principal> AuthenticatePortal(std::string_view token) const;
  mutable std::mutex mu_;
  mutable std::unordered_map<std::string, Cached> cache_;  // GUARDED_BY(mu_): by key hash
};

// Decides which organization a request acts on.
// - An organization key acts on its own organization: naming another gives kPermissionDenied.
// - The admin key must name one (kInvalidArgument naming `field` otherwise), and it must
//   exist (kNotFound).
Result<std::string> ResolveOrganization(const Principal& principal,
                                        std::optional<std::string_view> requested,
                                        std::string_view field, store::Store& store);

Status RequireAdmin(const Principal& principal);
// kPermissionDenied for a portal session: API keys, portal links and secret rotation.
Status RequireNotPortal(const Principal& principal);

}  // namespace ulak::api
