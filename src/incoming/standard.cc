// Standard Webhooks (standardwebhooks.com): webhook-id, webhook-timestamp and
// webhook-signature ("v1,<base64>" entries, space separated); HMAC-SHA256 over
// "{id}.{timestamp}.{body}" keyed with the base64-decoded part of "whsec_<base64>".
#include "crypto/encoding.h"
#include "incoming/providers.h"
#include "incoming/signature_headers.h"

namespace ulak::incoming::internal {

Result<VerifiedEvent> VerifyStandard(const VerifyInput& input) {
  const auto id = FindHeader(input.headers, "webhook-id");
  if (!id || id->empty()) return Unauthenticated("missing webhook-id header");
  const auto timestamp_header = FindHeader(input.headers, "webhook-timestamp");
  if (!timestamp_header) return Unauthenticated("missing webhook-timestamp header");
  const auto signature_header = FindHeader(input.headers, "webhook-signature");
  if (!signature_header) return Unauthenticated("missing webhook-signature header");

  const auto timestamp = ParseUnixSeconds(TrimOws(*timestamp_header));
  if (!timestamp) return Unauthenticated("malformed webhook-timestamp header");
  // The reference libraries check the timestamp first, in both directions.
  if (!WithinTolerance(*timestamp, input.now, input.options.tolerance_s)) {
    return Unauthenticated("webhook-timestamp outside the tolerance");
  }
  const std::vector<std::string> signatures = ParseStandardSignatures(*signature_header);
  if (signatures.empty()) return Unauthenticated("no v1 signature in webhook-signature header");

  std::string signed_content(*id);
  signed_content += '.';
  signed_content += std::to_string(*timestamp);
  signed_content += '.';
  signed_content += input.body;
  std::vector<std::string> keys;
  for (const std::string& secret : input.secrets) {
    const std::string_view encoded =
        secret.rfind("whsec_", 0) == 0 ? std::string_view(secret).substr(6) : secret;
    // A secret that does not decode (ValidateSecrets refuses those) matches nothing.
    if (auto key = crypto::Base64Decode(encoded); key && !key->empty()) keys.push_back(*key);
  }
  if (!AnyMacMatches(MacsForSecrets(crypto::HashAlgorithm::kSha256, keys, signed_content),
                     signatures)) {
    return Unauthenticated("no matching signature");
  }

  ULAK_ASSIGN_OR_RETURN(boost::json::object body, ParseBodyObject(input.body));
  const auto type = StringField(body, "type");
  VerifiedEvent event;
  event.provider_event_id = std::string(*id);
  event.event_type = type && !type->empty() ? std::string(*type) : std::string("webhook");
  event.data = std::move(body);
  return event;
}

}  // namespace ulak::incoming::internal
