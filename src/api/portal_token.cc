#include "api/portal_token.h"

#include <charconv>
#include <vector>

#include "crypto/encoding.h"
#include "crypto/hash.h"

namespace ulak::api {
namespace {

constexpr std::string_view kVersion = "v1";

std::string Mac(std::string_view key, std::string_view signed_part) {
  return crypto::HexEncode(crypto::HmacSha256(key, signed_part));
}

bool ParseInt(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

std::string SignPortalToken(std::string_view signing_key, const PortalClaims& claims) {
  std::string body = std::string(kVersion) + "." + claims.organization_id + "." +
                     std::to_string(ToUnixMillis(claims.expires_at)) + "." + std::to_string(claims.generation);
  return std::string(kPortalTokenPrefix) + body + "." + Mac(signing_key, body);
}

Result<PortalClaims> VerifyPortalToken(std::string_view signing_key, std::string_view token, TimePoint now) {
  if (signing_key.empty()) return Unauthenticated("Portal tokens are not enabled on this server.");
  if (token.substr(0, kPortalTokenPrefix.size()) != kPortalTokenPrefix) {
    return Unauthenticated("Not a portal token.");
  }
  token.remove_prefix(kPortalTokenPrefix.size());
  const size_t last_dot = token.rfind('.');
  if (last_dot == std::string_view::npos) return Unauthenticated("Malformed portal token.");
  const std::string_view body = token.substr(0, last_dot);
  const std::string_view mac = token.substr(last_dot + 1);
  if (!crypto::ConstantTimeEquals(Mac(signing_key, body), mac)) {
    return Unauthenticated("Invalid portal token signature.");
  }
  std::vector<std::string_view> parts;
  for (std::string_view rest = body;;) {
    const size_t dot = rest.find('.');
    parts.push_back(rest.substr(0, dot));
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  PortalClaims claims;
  int64_t expires_ms = 0;
  if (parts.size() != 4 || parts[0] != kVersion || parts[1].empty() || !ParseInt(parts[2], &expires_ms) ||
      !ParseInt(parts[3], &claims.generation)) {
    return Unauthenticated("Malformed portal token.");
  }
  claims.organization_id = std::string(parts[1]);
  claims.expires_at = FromUnixMillis(expires_ms);
  if (now >= claims.expires_at) return Unauthenticated("The portal link has expired; ask for a new one.");
  return claims;
}

}  // namespace ulak::api
