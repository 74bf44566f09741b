// GitHub ("X-Hub-Signature-256: sha256=<hex>") and Shopify ("X-Shopify-Hmac-Sha256:
// <base64>"): HMAC-SHA256 of the raw body keyed with the secret string, no timestamp, the
// event id and type in headers of their own.
#include "incoming/providers.h"
#include "incoming/signature_headers.h"

namespace ulak::incoming::internal {
namespace {

// Checks `header_name` carries a MAC of the body under one of the secrets.
Status CheckBodyMac(const VerifyInput& input, std::string_view header_name, std::string_view prefix,
                    SourceOptions::Encoding encoding) {
  const auto header = FindHeader(input.headers, header_name);
  if (!header) return Unauthenticated("missing " + std::string(header_name) + " header");
  auto mac = ParseHmacSignature(*header, prefix, encoding);
  if (!mac) return Unauthenticated("malformed " + std::string(header_name) + " header");
  if (!AnyMacMatches(MacsForSecrets(crypto::HashAlgorithm::kSha256, input.secrets, input.body),
                     {*mac})) {
    return Unauthenticated("no matching signature");
  }
  return Status::Ok();
}

Result<std::string> RequiredHeader(const VerifyInput& input, std::string_view name) {
  const auto value = FindHeader(input.headers, name);
  if (!value || TrimOws(*value).empty())
    return Malformed("missing " + std::string(name) + " header");
  return std::string(TrimOws(*value));
}

}  // namespace

Result<VerifiedEvent> VerifyGithub(const VerifyInput& input) {
  ULAK_RETURN_IF_ERROR(
      CheckBodyMac(input, "X-Hub-Signature-256", "sha256=", SourceOptions::Encoding::kHex));
  ULAK_ASSIGN_OR_RETURN(std::string id, RequiredHeader(input, "X-GitHub-Delivery"));
  ULAK_ASSIGN_OR_RETURN(std::string type, RequiredHeader(input, "X-GitHub-Event"));
  ULAK_ASSIGN_OR_RETURN(boost::json::object body, ParseBodyObject(input.body));
  // "issues" alone says little; "issues.opened" is what a rule wants to match.
  if (const auto action = StringField(body, "action"); action && !action->empty()) {
    type += '.';
    type += *action;
  }
  VerifiedEvent event;
  event.provider_event_id = std::move(id);
  event.event_type = std::move(type);
  event.data = std::move(body);
  return event;
}

Result<VerifiedEvent> VerifyShopify(const VerifyInput& input) {
  ULAK_RETURN_IF_ERROR(
      CheckBodyMac(input, "X-Shopify-Hmac-Sha256", "", SourceOptions::Encoding::kBase64));
  ULAK_ASSIGN_OR_RETURN(std::string id, RequiredHeader(input, "X-Shopify-Webhook-Id"));
  ULAK_ASSIGN_OR_RETURN(std::string type, RequiredHeader(input, "X-Shopify-Topic"));
  ULAK_ASSIGN_OR_RETURN(boost::json::object body, ParseBodyObject(input.body));
  VerifiedEvent event;
  event.provider_event_id = std::move(id);
  event.event_type = std::move(type);
  event.data = std::move(body);
  return event;
}

}  // namespace ulak::incoming::internal
