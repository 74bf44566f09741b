// Stripe: "Stripe-Signature: t=…,v1=…", HMAC-SHA256 over "{t}.{body}" keyed with the whole
// whsec_… string (Stripe does not decode it), lowercase hex.
#include "incoming/providers.h"
#include "incoming/signature_headers.h"

namespace ulak::incoming::internal {

Result<VerifiedEvent> VerifyStripe(const VerifyInput& input) {
  const auto header = FindHeader(input.headers, "Stripe-Signature");
  if (!header) return Unauthenticated("missing Stripe-Signature header");
  const auto signature = ParseStripeSignature(*header);
  if (!signature) return Unauthenticated("malformed Stripe-Signature header");
  if (signature->v1.empty()) return Unauthenticated("no v1 signature in Stripe-Signature header");

  std::string signed_payload = std::to_string(signature->timestamp);
  signed_payload += '.';
  signed_payload += input.body;
  // Signature before timestamp, as Stripe's libraries do: a stale-timestamp rejection then
  // means the request was authentic but late (a replay or a slow retry), worth telling apart.
  if (!AnyMacMatches(MacsForSecrets(crypto::HashAlgorithm::kSha256, input.secrets, signed_payload),
                     signature->v1)) {
    return Unauthenticated("no matching Stripe signature");
  }
  // Stripe itself only refuses old timestamps; a far-future one is refused too, since it
  // would otherwise stay replayable for as long as it is in the future.
  if (!WithinTolerance(signature->timestamp, input.now, input.options.tolerance_s)) {
    return Unauthenticated("Stripe-Signature timestamp outside the tolerance");
  }

  ULAK_ASSIGN_OR_RETURN(boost::json::object body, ParseBodyObject(input.body));
  const auto id = StringField(body, "id");
  if (!id) return Malformed("body has no string \"id\"");
  const auto type = StringField(body, "type");
  if (!type) return Malformed("body has no string \"type\"");
  VerifiedEvent event;
  event.provider_event_id = std::string(*id);
  event.event_type = std::string(*type);
  event.data = std::move(body);
  return event;
}

}  // namespace ulak::incoming::internal
