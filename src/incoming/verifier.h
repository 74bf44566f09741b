// Incoming webhook verification: pure functions of (raw body, headers, secrets, options,
// now) → a verified event or the reason for rejection (ARCHITECTURE.md "Incoming"). No I/O,
// no store, no clock reads: easy to test, easy to fuzz.
#pragma once

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "crypto/hash.h"

namespace ulak::incoming {

enum class Provider { kStripe, kApple, kGithub, kShopify, kStandard, kHmac, kHeader };
std::string_view ProviderName(Provider p);  // "stripe", "apple", "github", "shopify", "standard", "hmac", "header"
std::optional<Provider> ParseProvider(std::string_view name);

// Request headers as received (name, value), looked up case-insensitively.
using Headers = std::vector<std::pair<std::string, std::string>>;
std::optional<std::string_view> FindHeader(const Headers& headers, std::string_view name);

// Per-source options (POST /api/sources "options"), validated once at create/update.
struct SourceOptions {
  int64_t tolerance_s = 300;  // stripe, standard: allowed clock skew of the signature timestamp
  // hmac: the generic HMAC sender.
  std::string signature_header;                            // required for hmac
  crypto::HashAlgorithm algorithm = crypto::HashAlgorithm::kSha256;
  enum class Encoding { kHex, kBase64 } encoding = Encoding::kHex;
  std::string prefix;                                      // e.g. "sha256=" stripped before comparing
  std::string id_header;                                   // hmac/header: header carrying a unique id
  std::string type_header;                                 // hmac/header: header carrying the event type
  // header: a shared secret sent as is in a header (n8n's X-Webhook-Secret style).
  std::string secret_header = "X-Webhook-Secret";
  // apple: App Store Server Notifications V2.
  std::vector<std::string> root_certificates_pem;          // default: Apple Root CA - G3
  std::string bundle_id;                                   // required for apple
  std::string environment;                                 // "Production" | "Sandbox" | "" (any)
  std::optional<int64_t> app_apple_id;                     // checked in Production when set
};

// Validates `options` for `provider` (kInvalidArgument naming "options.<field>" otherwise).
Result<SourceOptions> ParseSourceOptions(Provider provider, const boost::json::object& options);
// The inverse of ParseSourceOptions, for storing and showing a source: only the options
// `provider` reads; apple's root_certificates only when not the default Apple root.
// ParseSourceOptions(p, SourceOptionsToJson(p, o)) gives back `o`.
boost::json::object SourceOptionsToJson(Provider provider, const SourceOptions& options);
// Validates the secrets for `provider` (e.g. stripe and standard need "whsec_..."): at
// least one, at most 5 (rotation). kInvalidArgument naming "secrets".
Status ValidateSecrets(Provider provider, const std::vector<std::string>& secrets);

struct VerifyInput {
  std::string_view body;                      // raw bytes, exactly as received
  const Headers& headers;
  const std::vector<std::string>& secrets;    // any one may match (rotation)
  const SourceOptions& options;
  TimePoint now;
};

struct VerifiedEvent {
  std::string provider_event_id;  // the de-duplication key: Stripe `id`, Apple notificationUUID, ...
  std::string event_type;         // the provider's type, e.g. "customer.subscription.updated"
  boost::json::object data;       // the provider's payload (decoded, for Apple)
};

// kUnauthenticated with a short reason (never containing secrets or the body) when the
// request is not authentic; kMalformed when the body cannot be read as the provider's format.
Result<VerifiedEvent> Verify(Provider provider, const VerifyInput& input);

}  // namespace ulak::incoming
