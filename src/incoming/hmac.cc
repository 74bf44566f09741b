// The generic senders: "hmac" (a MAC of the raw body in a configured header, with a
// configured algorithm, encoding and prefix) and "header" (a shared secret sent as is, n8n's
// X-Webhook-Secret style).
#include "crypto/hash.h"
#include "incoming/providers.h"
#include "incoming/signature_headers.h"

namespace ulak::incoming::internal {

Result<VerifiedEvent> VerifyHmac(const VerifyInput& input) {
  const SourceOptions& options = input.options;
  if (options.signature_header.empty()) return Unauthenticated("no signature header configured");
  const auto header = FindHeader(input.headers, options.signature_header);
  if (!header) return Unauthenticated("missing " + options.signature_header + " header");
  auto mac = ParseHmacSignature(*header, options.prefix, options.encoding);
  if (!mac) return Unauthenticated("malformed " + options.signature_header + " header");
  if (!AnyMacMatches(MacsForSecrets(options.algorithm, input.secrets, input.body), {*mac})) {
    return Unauthenticated("no matching signature");
  }
  ULAK_ASSIGN_OR_RETURN(boost::json::object body, ParseBodyObject(input.body));
  return GenericEvent(input, std::move(body));
}

Result<VerifiedEvent> VerifyHeader(const VerifyInput& input) {
  const SourceOptions& options = input.options;
  const auto header = FindHeader(input.headers, options.secret_header);
  if (!header) return Unauthenticated("missing " + options.secret_header + " header");
  // Digests are compared rather than the strings themselves: ConstantTimeEquals returns
  // early on a length mismatch, and the length of a shared secret is worth keeping too.
  const std::string received = crypto::Sha256(TrimOws(*header));
  bool matched = false;
  for (const std::string& secret : input.secrets) {
    matched |= crypto::ConstantTimeEquals(crypto::Sha256(secret), received);
  }
  if (!matched) return Unauthenticated("secret does not match");
  ULAK_ASSIGN_OR_RETURN(boost::json::object body, ParseBodyObject(input.body));
  return GenericEvent(input, std::move(body));
}

}  // namespace ulak::incoming::internal
