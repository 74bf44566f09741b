#include "api/auth.h"

#include <strings.h>

#include "api/portal_token.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"

namespace ulak::api {

MintedKey MintKey(Random& random, std::string_view prefix) {
  MintedKey key;
  key.secret = std::string(prefix) + crypto::Base64UrlEncode(random.Bytes(32));
  key.hash = HashKey(key.secret);
  key.prefix = key.secret.substr(0, prefix.size() + 6);
  return key;
}

std::string HashKey(std::string_view secret) { return crypto::Sha256Hex(secret); }

Result<Principal> Authenticator::Authenticate(const http::Request& request) const {
  std::optional<std::string_view> header = request.GetHeader("Authorization");
  if (!header) return Unauthenticated("Missing Authorization header; send 'Authorization: Bearer <api key>'.");
  std::string_view value = *header;
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size() || strncasecmp(value.data(), kScheme.data(), kScheme.size()) != 0) {
    return Unauthenticated("The Authorization header must use the Bearer scheme.");
  }
  value.remove_prefix(kScheme.size());
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return Unauthenticated("The bearer token is empty.");
  if (value.starts_with(kPortalTokenPrefix)) return AuthenticatePortal(value);

  const std::string hash = HashKey(value);
  if (!admin_key_hash_.empty() && crypto::ConstantTimeEquals(hash, admin_key_hash_)) {
    return Principal{true, {}, {}};
  }
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(hash);
    if (it != cache_.end() && now < it->second.until) return it->second.principal;
  }
  Result<store::ApiKey> key = store_.FindApiKeyByHash(hash);
  if (!key.ok()) {
    if (key.status().code() == ErrorCode::kNotFound) return Unauthenticated("Invalid API key.");
    return key.status();
  }
  // The lookup matched on an index; the constant-time check keeps the final decision free
  // of data-dependent timing.
  if (!crypto::ConstantTimeEquals(hash, key->key_hash)) return Unauthenticated("Invalid API key.");
  Principal principal{false, key->organization_id, key->id};
  std::lock_guard lock(mu_);
  if (cache_.size() > 100'000) cache_.clear();  // bounded: keys are few, garbage tokens are not cached
  cache_[hash] = Cached{principal, now + kCacheTtl};
  return principal;
}

Result<Principal> Authenticator::AuthenticatePortal(std::string_view token) const {
  ULAK_ASSIGN_OR_RETURN(PortalClaims claims, VerifyPortalToken(portal_key_, token, portal_clock_->Now()));
  // Not cached: a revocation must take effect at once, and this is one primary-key read.
  ULAK_ASSIGN_OR_RETURN(int64_t generation, store_.GetPortalGeneration(claims.organization_id));
  if (generation != claims.generation) return Unauthenticated("This portal link has been revoked.");
  Principal principal;
  principal.organization_id = std::move(claims.organization_id);
  principal.is_portal = true;
  return principal;
}

void Authenticator::Forget(const std::string& key_id) const {
  std::lock_guard lock(mu_);
  std::erase_if(cache_, [&](const auto& entry) { return entry.second.principal.key_id == key_id; });
}

Result<std::string> ResolveOrganization(const Principal& principal,
                                        std::optional<std::string_view> requested,
                                        std::string_view field, store::Store& store) {
  if (!principal.is_admin) {
    if (requested && !requested->empty() && *requested != principal.organization_id) {
      return PermissionDenied("This API key belongs to another organization than " +
                              std::string(field) + " names.");
    }
    return principal.organization_id;
  }
  if (!requested || requested->empty()) {
    return InvalidArgument(std::string(field) + " is required when using the admin key.")
        .WithField(std::string(field));
  }
  Result<store::Organization> org = store.GetOrganization(*requested);
  if (!org.ok()) {
    if (org.status().code() == ErrorCode::kNotFound) {
      return NotFound("Organization " + std::string(*requested) + " does not exist.");
    }
    return org.status();
  }
  return org->id;
}

Status RequireNotPortal(const Principal& principal) {
  if (!principal.is_portal) return Status::Ok();
  return PermissionDenied("A portal session cannot manage API keys, portal links or secrets.");
}

Status RequireAdmin(const Principal& principal) {
  if (principal.is_admin) return Status::Ok();
  return PermissionDenied("This operation needs the admin key.");
}

}  // namespace ulak::api
