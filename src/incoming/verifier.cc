#include "incoming/verifier.h"

#include <algorithm>
#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cmath>
#include <limits>

#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "incoming/providers.h"

namespace ulak::incoming {
namespace {

constexpr size_t kMaxSecrets = 5;
constexpr size_t kMaxSecretBytes = 1024;
// Provider ids and types become de-duplication keys and event types; beyond this they are
// not ids but payloads.
constexpr size_t kMaxIdBytes = 255;

constexpr std::array<std::pair<Provider, std::string_view>, 7> kProviderNames = {{
    {Provider::kStripe, "stripe"},
    {Provider::kApple, "apple"},
    {Provider::kGithub, "github"},
    {Provider::kShopify, "shopify"},
    {Provider::kStandard, "standard"},
    {Provider::kHmac, "hmac"},
    {Provider::kHeader, "header"},
}};

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

Status SecretError(size_t index, std::string_view what) {
  return InvalidArgument("secrets[" + std::to_string(index) + "] " + std::string(what))
      .WithField("secrets");
}

}  // namespace

std::string_view ProviderName(Provider p) {
  for (const auto& [provider, name] : kProviderNames) {
    if (provider == p) return name;
  }
  return "unknown";
}

std::optional<Provider> ParseProvider(std::string_view name) {
  for (const auto& [provider, provider_name] : kProviderNames) {
    if (provider_name == name) return provider;
  }
  return std::nullopt;
}

std::optional<std::string_view> FindHeader(const Headers& headers, std::string_view name) {
  for (const auto& [header_name, value] : headers) {
    if (EqualsIgnoreCase(header_name, name)) return std::string_view(value);
  }
  return std::nullopt;
}

Status ValidateSecrets(Provider provider, const std::vector<std::string>& secrets) {
  // Apple signs with its own certificates; a source may carry no secret at all.
  const size_t min = provider == Provider::kApple ? 0 : 1;
  if (secrets.size() < min || secrets.size() > kMaxSecrets) {
    return InvalidArgument(provider == Provider::kApple ? "secrets must hold at most 5 entries"
                                                        : "secrets must hold 1 to 5 entries")
        .WithField("secrets");
  }
  for (size_t i = 0; i < secrets.size(); ++i) {
    const std::string& secret = secrets[i];
    if (secret.empty()) return SecretError(i, "is empty");
    if (secret.size() > kMaxSecretBytes) return SecretError(i, "is longer than 1024 bytes");
    for (const char c : secret) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7f) return SecretError(i, "contains control characters");
    }
    switch (provider) {
      case Provider::kStripe:
        if (secret.rfind("whsec_", 0) != 0) return SecretError(i, "must start with whsec_");
        break;
      case Provider::kStandard: {
        const std::string_view key =
            secret.rfind("whsec_", 0) == 0 ? std::string_view(secret).substr(6) : secret;
        const auto decoded = crypto::Base64Decode(key);
        if (!decoded || decoded->empty()) {
          return SecretError(i, "must be whsec_ followed by base64");
        }
        break;
      }
      case Provider::kHeader:
        // Compared with a header value, which never has surrounding whitespace.
        if (secret.front() == ' ' || secret.back() == ' ') {
          return SecretError(i, "must not start or end with a space");
        }
        break;
      case Provider::kApple:
      case Provider::kGithub:
      case Provider::kShopify:
      case Provider::kHmac:
        break;
    }
  }
  return Status::Ok();
}

Result<VerifiedEvent> Verify(Provider provider, const VerifyInput& input) {
  if (provider != Provider::kApple && input.secrets.empty()) {
    return Unauthenticated("no secret configured");
  }
  auto verified = [&]() -> Result<VerifiedEvent> {
    switch (provider) {
      case Provider::kStripe:
        return internal::VerifyStripe(input);
      case Provider::kApple:
        return internal::VerifyApple(input);
      case Provider::kGithub:
        return internal::VerifyGithub(input);
      case Provider::kShopify:
        return internal::VerifyShopify(input);
      case Provider::kStandard:
        return internal::VerifyStandard(input);
      case Provider::kHmac:
        return internal::VerifyHmac(input);
      case Provider::kHeader:
        return internal::VerifyHeader(input);
    }
    return Internal("unknown provider");
  }();
  if (!verified.ok()) return verified;
  if (verified->provider_event_id.empty()) return Malformed("event id is empty");
  if (verified->provider_event_id.size() > kMaxIdBytes) return Malformed("event id is too long");
  if (verified->event_type.empty()) return Malformed("event type is empty");
  if (verified->event_type.size() > kMaxIdBytes) return Malformed("event type is too long");
  return verified;
}

namespace internal {

Result<boost::json::object> ParseBodyObject(std::string_view body) {
  boost::system::error_code ec;
  boost::json::parse_options options;
  options.max_depth = 64;
  boost::json::value value = boost::json::parse(body, ec, {}, options);
  if (ec || !value.is_object()) return Malformed("body is not a JSON object");
  return std::move(value.get_object());
}

std::optional<std::string_view> StringField(const boost::json::object& object,
                                            std::string_view key) {
  const boost::json::value* value = object.if_contains(key);
  if (value == nullptr || !value->is_string()) return std::nullopt;
  return std::string_view(value->get_string());
}

std::optional<int64_t> IntegerField(const boost::json::object& object, std::string_view key) {
  const boost::json::value* value = object.if_contains(key);
  if (value == nullptr) return std::nullopt;
  if (value->is_int64()) return value->get_int64();
  if (value->is_uint64()) {
    const uint64_t u = value->get_uint64();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (value->is_double()) {
    const double d = value->get_double();
    // 2^53: beyond it a double no longer names one integer.
    if (!std::isfinite(d) || std::trunc(d) != d || std::fabs(d) > 9007199254740992.0) {
      return std::nullopt;
    }
    return static_cast<int64_t>(d);
  }
  return std::nullopt;
}

int64_t UnixSeconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

bool WithinTolerance(int64_t timestamp_s, TimePoint now, int64_t tolerance_s) {
  if (tolerance_s < 0) return false;
  // A system_clock TimePoint spans about ±292 years in seconds, so clamping the tolerance
  // keeps now ± tolerance inside int64_t whatever a caller passes.
  const int64_t tolerance = std::min<int64_t>(tolerance_s, int64_t{1} << 40);
  const int64_t now_s = UnixSeconds(now);
  return timestamp_s >= now_s - tolerance && timestamp_s <= now_s + tolerance;
}

bool AnyMacMatches(const std::vector<std::string>& expected,
                   const std::vector<std::string>& candidates) {
  bool matched = false;
  for (const std::string& mac : expected) {
    for (const std::string& candidate : candidates) {
      matched |= crypto::ConstantTimeEquals(mac, candidate);
    }
  }
  return matched;
}

std::vector<std::string> MacsForSecrets(crypto::HashAlgorithm algorithm,
                                        const std::vector<std::string>& secrets,
                                        std::string_view message) {
  std::vector<std::string> macs;
  macs.reserve(secrets.size());
  for (const std::string& secret : secrets)
    macs.push_back(crypto::Hmac(algorithm, secret, message));
  return macs;
}

VerifiedEvent GenericEvent(const VerifyInput& input, boost::json::object body) {
  VerifiedEvent event;
  const SourceOptions& options = input.options;
  std::optional<std::string_view> id;
  if (!options.id_header.empty()) id = FindHeader(input.headers, options.id_header);
  if (id && !id->empty()) {
    event.provider_event_id = std::string(*id);
  } else {
    // No id from the sender: identical bodies are then treated as one event.
    event.provider_event_id = crypto::Sha256Hex(input.body);
  }
  std::optional<std::string_view> type;
  if (!options.type_header.empty()) type = FindHeader(input.headers, options.type_header);
  if (!type || type->empty()) type = StringField(body, "type");
  if (!type || type->empty()) type = StringField(body, "event");
  event.event_type = (type && !type->empty()) ? std::string(*type) : std::string("webhook");
  event.data = std::move(body);
  return event;
}

}  // namespace internal
}  // namespace ulak::incoming
