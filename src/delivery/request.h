// Builds the HTTP request for one try of one delivery: the payload as is, signed both ways
// (signer.h) at send time, with the webhook's custom headers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/clock.h"
#include "delivery/http_transport.h"
#include "delivery/webhook_config.h"

namespace ulak::delivery {

struct SignedRequest {
  OutgoingRequest request;
  std::string signature;  // X-Webhook-Signature, kept in the attempt log
};

// During a secret rotation's grace period (previous_secret_expires_at after `now`) the
// webhook-signature header carries both signatures, new first: "v1,<new> v1,<old>" (or
// "v1a,..." entries for an ed25519 webhook, see signer.h).
// `delivery_id` is the webhook-id header; `payload` the event's rendered body, sent as is:
// the request shares it (OutgoingRequest::shared_body), nothing copies it.
// REQUIRES: !NeedsShaping(config) (shaped_request.h builds those webhooks' tries); payload
// not null.
SignedRequest BuildDeliveryRequest(const WebhookConfig& config, const std::string& delivery_id,
                                   std::shared_ptr<const std::string> payload, TimePoint now);

// Appends X-Webhook-Signature, webhook-id, webhook-timestamp and webhook-signature over
// `body` (the exact bytes sent) to out.request and sets out.signature. Shared by the plain
// path above and shaped requests (shaped_request.h).
void AddSignatureHeaders(const WebhookConfig& config, const std::string& delivery_id, const std::string& body,
                         TimePoint now, SignedRequest& out);

}  // namespace ulak::delivery
